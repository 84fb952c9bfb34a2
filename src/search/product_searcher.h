// ProductSearcher: the search core shared by `lookalike search` and the HTTP API. A query (text,
// image bytes, or an existing product) becomes a vector, the index finds the best images (filters
// applied inside the index), and the catalogue turns them into products: one result per product
// (its best image), best first.
// Thread-safety: all methods may run concurrently; everything it borrows must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "clip/clip_model.h"
#include "core/result.h"
#include "image/clip_preprocessor.h"
#include "image/image_decoder.h"
#include "index/vector_index.h"

namespace lookalike::search {

struct SearchParams {
  int top_k = 20;  // 1..1000
  int offset = 0;  // results skipped (pagination); offset + top_k <= 10000
  std::optional<float> threshold;
  index::SearchFilter filter;
};

struct SearchResult {
  catalog::Product product;
  float score = 0;
  std::int64_t image_id = 0;
  std::string image_url;  // the matching image ("/images/...")
};

struct SearchResponse {
  std::vector<SearchResult> results;
  double took_ms = 0;
  double embed_ms = 0;  // part of took_ms spent in the model
};

class ProductSearcher {
 public:
  // `model` may be null (only by_vector/by_product then) or lack a tower (that query kind fails
  // with kFailedPrecondition).
  ProductSearcher(const clip::ClipModel* model, const image::ClipPreprocessor* preprocessor,
                  image::DecodeLimits limits, catalog::Catalog& catalog,
                  const index::VectorIndex& index);

  Result<SearchResponse> by_text(const std::string& text, const SearchParams& params) const;
  // Encoded image bytes (any decodable format); bad images are kCorruptData/kUnsupported/
  // kResourceExhausted from the decoder.
  Result<SearchResponse> by_image(std::span<const std::uint8_t> bytes,
                                  const SearchParams& params) const;
  // "More like this": the product's first indexed image is the query; the product itself is
  // left out. kNotFound for an unknown product, kFailedPrecondition if it has no embedding.
  Result<SearchResponse> by_product(std::int64_t product_id, const SearchParams& params) const;
  Result<SearchResponse> by_vector(std::span<const float> vector, const SearchParams& params,
                                   std::int64_t exclude_product_id = 0) const;

  // Text → normalised embedding (exposed so the HTTP layer can cache and batch).
  Result<std::vector<float>> embed_text(const std::string& text) const;
  Result<std::vector<float>> embed_image(std::span<const std::uint8_t> bytes) const;

 private:
  // Times `embed` (the query's vector) and the search that follows.
  Result<SearchResponse> embed_and_search(const std::function<Result<std::vector<float>>()>& embed,
                                          const SearchParams& params) const;

  const clip::ClipModel* model_;
  const image::ClipPreprocessor* preprocessor_;
  image::DecodeLimits limits_;
  catalog::Catalog& catalog_;
  const index::VectorIndex& index_;
};

// Checks top_k/offset/threshold ranges; kInvalidArgument naming the parameter.
Status validate_search_params(const SearchParams& params);

}  // namespace lookalike::search
