#include "search/product_searcher.h"

#include <chrono>
#include <cmath>
#include <unordered_map>

namespace lookalike::search {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

Status validate_search_params(const SearchParams& params) {
  if (params.top_k < 1 || params.top_k > 1000) {
    return make_error(ErrorCode::kInvalidArgument, "top_k must be between 1 and 1000");
  }
  if (params.offset < 0 || params.offset + params.top_k > 10000) {
    return make_error(ErrorCode::kInvalidArgument,
                      "offset must be >= 0 and offset + top_k at most 10000");
  }
  if (params.threshold && (!std::isfinite(*params.threshold) || *params.threshold < -1.0f ||
                           *params.threshold > 1.0f)) {
    return make_error(ErrorCode::kInvalidArgument, "threshold must be between -1 and 1");
  }
  const auto& f = params.filter;
  if (f.min_price_cents && f.max_price_cents && *f.min_price_cents > *f.max_price_cents) {
    return make_error(ErrorCode::kInvalidArgument, "min_price is greater than max_price");
  }
  return ok_status();
}

ProductSearcher::ProductSearcher(const clip::ClipModel* model,
                                 const image::ClipPreprocessor* preprocessor,
                                 image::DecodeLimits limits, catalog::Catalog& catalog,
                                 const index::VectorIndex& index)
    : model_(model),
      preprocessor_(preprocessor),
      limits_(limits),
      catalog_(catalog),
      index_(index) {}

Result<std::vector<float>> ProductSearcher::embed_text(const std::string& text) const {
  if (model_ == nullptr || !model_->has_text()) {
    return make_error(ErrorCode::kFailedPrecondition, "the text tower is not loaded");
  }
  std::vector<float> vector(static_cast<std::size_t>(model_->embedding_dim()));
  std::string texts[] = {text};
  if (auto status = model_->embed_texts(texts, vector.data()); !status) return status.error();
  return vector;
}

Result<std::vector<float>> ProductSearcher::embed_image(std::span<const std::uint8_t> bytes) const {
  if (model_ == nullptr || !model_->has_vision() || preprocessor_ == nullptr) {
    return make_error(ErrorCode::kFailedPrecondition, "the vision tower is not loaded");
  }
  auto decoded = image::decode_image(bytes, limits_);
  if (!decoded) return decoded.error();
  auto tensor = preprocessor_->preprocess(*decoded);
  std::vector<float> vector(static_cast<std::size_t>(model_->embedding_dim()));
  if (auto status = model_->embed_images(tensor.data(), 1, vector.data()); !status) {
    return status.error();
  }
  return vector;
}

Result<SearchResponse> ProductSearcher::embed_and_search(
    const std::function<Result<std::vector<float>>()>& embed, const SearchParams& params) const {
  if (auto status = validate_search_params(params); !status) return status.error();
  auto start = Clock::now();
  auto vector = embed();
  if (!vector) return vector.error();
  double embed_ms = ms_since(start);
  auto response = by_vector(*vector, params);
  if (!response) return response;
  response->embed_ms = embed_ms;
  response->took_ms = ms_since(start);
  return response;
}

Result<SearchResponse> ProductSearcher::by_text(const std::string& text,
                                                const SearchParams& params) const {
  return embed_and_search([&] { return embed_text(text); }, params);
}

Result<SearchResponse> ProductSearcher::by_image(std::span<const std::uint8_t> bytes,
                                                 const SearchParams& params) const {
  return embed_and_search([&] { return embed_image(bytes); }, params);
}

Result<SearchResponse> ProductSearcher::by_product(std::int64_t product_id,
                                                   const SearchParams& params) const {
  if (auto status = validate_search_params(params); !status) return status.error();
  auto start = Clock::now();
  auto product = catalog_.get_product(product_id);
  if (!product) return product.error();
  auto images = catalog_.list_images(product_id);
  if (!images) return images.error();
  for (const auto& image : *images) {
    auto embedding = catalog_.get_embedding(image.sha256, index_.fingerprint());
    if (!embedding) return embedding.error();
    if (!*embedding) continue;
    auto response = by_vector((*embedding)->vector, params, product_id);
    if (response) response->took_ms = ms_since(start);
    return response;
  }
  return make_error(ErrorCode::kFailedPrecondition,
                    "product " + product->external_id + " has no image embedded by this model");
}

Result<SearchResponse> ProductSearcher::by_vector(std::span<const float> vector,
                                                  const SearchParams& params,
                                                  std::int64_t exclude_product_id) const {
  if (auto status = validate_search_params(params); !status) return status.error();
  auto start = Clock::now();
  index::SearchQuery query;
  query.vector = vector;
  query.limit = params.offset + params.top_k + (exclude_product_id != 0 ? 1 : 0);
  query.score_threshold = params.threshold;
  query.filter = params.filter;
  query.group_by_product = true;
  auto hits = index_.search(query);
  if (!hits) return hits.error();

  std::vector<index::SearchHit> kept;
  for (const auto& hit : *hits) {
    if (hit.product_id != exclude_product_id) kept.push_back(hit);
  }
  SearchResponse response;
  std::size_t first = std::min(kept.size(), static_cast<std::size_t>(params.offset));
  std::size_t last = std::min(kept.size(), first + static_cast<std::size_t>(params.top_k));
  std::vector<std::int64_t> product_ids;
  for (std::size_t i = first; i < last; ++i) product_ids.push_back(kept[i].product_id);
  auto products = catalog_.get_products(product_ids);
  if (!products) return products.error();
  std::unordered_map<std::int64_t, catalog::Product*> by_id;
  for (auto& product : *products) by_id[product.id] = &product;
  for (std::size_t i = first; i < last; ++i) {
    // A product deleted between the index search and this lookup is simply left out.
    auto it = by_id.find(kept[i].product_id);
    if (it == by_id.end()) continue;
    auto image = catalog_.get_image(kept[i].id);
    SearchResult result;
    result.product = std::move(*it->second);
    result.score = kept[i].score;
    result.image_id = kept[i].id;
    result.image_url = image ? image->url : result.product.image_url;
    response.results.push_back(std::move(result));
  }
  response.took_ms = ms_since(start);
  return response;
}

}  // namespace lookalike::search
