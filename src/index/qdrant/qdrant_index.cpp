#include "index/qdrant/qdrant_index.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <utility>

#include "index/qdrant/qdrant_filter.h"

namespace lookalike::index {

using nlohmann::json;

namespace {

constexpr char kFingerprintField[] = "fingerprint";

bool valid_collection_name(const std::string& name) {
  return !name.empty() && name.size() <= 255 &&
         std::all_of(
             name.begin(), name.end(),
             [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '-' || c == '.'; }) &&
         name != "." && name != "..";
}

json payload_of(const Point& point, const std::string& fingerprint) {
  const PointPayload& p = point.payload;
  json payload = {{"external_id", p.external_id},
                  {"original_id", p.external_id},
                  {kQdrantProductIdField, p.product_id},
                  {kFingerprintField, fingerprint}};
  if (!p.category.empty()) payload[kQdrantCategoryField] = p.category;
  if (p.price_cents) {
    payload["price"] = static_cast<double>(*p.price_cents) / 100.0;
    payload[kQdrantPriceCentsField] = *p.price_cents;
  }
  if (!p.currency.empty()) payload["currency"] = p.currency;
  return payload;
}

// One ScoredPoint of a search reply → SearchHit (kCorruptData if it is not shaped like one).
Result<SearchHit> hit_of(const json& scored) {
  if (!scored.is_object() || !scored.contains("id") || !scored["id"].is_number_integer() ||
      !scored.contains("score") || !scored["score"].is_number()) {
    return make_error(ErrorCode::kCorruptData,
                      "Qdrant returned a search hit without an integer id and a score: " +
                          scored.dump().substr(0, 200));
  }
  SearchHit hit;
  hit.id = scored["id"].get<std::int64_t>();
  hit.score = scored["score"].get<float>();
  const json* payload = scored.contains("payload") ? &scored["payload"] : nullptr;
  if (payload != nullptr && payload->is_object() && payload->contains(kQdrantProductIdField) &&
      (*payload)[kQdrantProductIdField].is_number_integer()) {
    hit.product_id = (*payload)[kQdrantProductIdField].get<std::int64_t>();
  } else {
    return make_error(ErrorCode::kCorruptData,
                      "Qdrant point " + std::to_string(hit.id) +
                          " has no integer product_id in its payload (not written by Lookalike?)");
  }
  return hit;
}

}  // namespace

QdrantIndex::QdrantIndex(const IndexOptions& options, const QdrantTuning& tuning)
    : options_(options),
      tuning_(tuning),
      rest_(QdrantConnection{options.qdrant_url, options.qdrant_api_key, tuning.retry,
                             tuning.timeout_s}),
      held_fingerprint_(options.fingerprint) {
  if (tuning_.batch_size == 0) tuning_.batch_size = 256;
}

Result<std::unique_ptr<QdrantIndex>> QdrantIndex::open(const IndexOptions& options,
                                                       const QdrantTuning& tuning) {
  if (options.qdrant_url.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the qdrant index backend needs a Qdrant URL (e.g. http://localhost:6333)");
  }
  if (options.dimension <= 0) {
    return make_error(ErrorCode::kInvalidArgument, "vector dimension must be positive, got " +
                                                       std::to_string(options.dimension));
  }
  if (!valid_collection_name(options.collection)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid Qdrant collection name '" + options.collection +
                          "' (letters, digits, '_', '-' and '.' only)");
  }
  std::unique_ptr<QdrantIndex> index(new QdrantIndex(options, tuning));
  try {
    if (auto status = index->ensure_collection(); !status.ok()) return status.error();
    if (auto status = index->read_held_fingerprint(); !status.ok()) return status.error();
  } catch (const json::exception& e) {  // a reply of an unexpected shape
    return make_error(ErrorCode::kCorruptData,
                      "unexpected reply from Qdrant at " + index->rest_.url() + ": " + e.what());
  }
  return index;
}

Status QdrantIndex::ensure_collection() {
  auto info = rest_.call("GET", collection_path());
  if (!info.ok() && info.error().code == ErrorCode::kNotFound) {
    auto created = create_collection();
    if (created.ok()) return ensure_payload_indexes(json::object());
    if (created.error().code != ErrorCode::kAlreadyExists) return created;
    info = rest_.call("GET", collection_path());  // created by someone else meanwhile
  }
  if (!info.ok()) return info.error();
  if (!info->is_object())
    return make_error(ErrorCode::kCorruptData, "Qdrant's collection info is not an object");
  const json& result = *info;
  json vectors = result.contains("config") && result["config"].contains("params")
                     ? result["config"]["params"].value("vectors", json())
                     : json();
  std::string where = "Qdrant collection '" + options_.collection + "' at " + rest_.url();
  if (!vectors.is_object() || !vectors.contains("size") || !vectors["size"].is_number_integer()) {
    return make_error(ErrorCode::kFailedPrecondition,
                      where + " has no single unnamed vector (named vectors?); Lookalike needs " +
                          "its own collection: set another collection name or delete it");
  }
  auto size = vectors["size"].get<std::int64_t>();
  std::string distance = vectors.value("distance", "");
  if (size != options_.dimension || distance != "Cosine") {
    return make_error(ErrorCode::kFailedPrecondition,
                      where + " holds " + std::to_string(size) + "-dimensional " + distance +
                          " vectors, but the model needs " + std::to_string(options_.dimension) +
                          "-dimensional Cosine vectors; delete the collection (it is rebuilt " +
                          "from the catalogue) or configure another collection name");
  }
  json schema = result.value("payload_schema", json::object());
  return ensure_payload_indexes(schema.is_object() ? schema : json::object());
}

Status QdrantIndex::create_collection() {
  json body = {{"vectors", {{"size", options_.dimension}, {"distance", "Cosine"}}}};
  auto created = rest_.call("PUT", collection_path(), body);
  if (!created.ok()) return created.error();
  return ok_status();
}

Status QdrantIndex::ensure_payload_indexes(const json& payload_schema) {
  const std::pair<const char*, const char*> wanted[] = {{kQdrantCategoryField, "keyword"},
                                                        {kQdrantPriceCentsField, "integer"},
                                                        {kQdrantProductIdField, "integer"}};
  for (const auto& [field, type] : wanted) {
    if (payload_schema.contains(field)) continue;
    json body = {{"field_name", field}, {"field_schema", type}};
    auto made = rest_.call("PUT", collection_path() + "/index?wait=true", body);
    if (!made.ok())
      return made.error().with_context("creating the payload index on " + std::string(field));
  }
  return ok_status();
}

Status QdrantIndex::read_held_fingerprint() {
  json body = {{"limit", 1}, {"with_payload", {kFingerprintField}}, {"with_vector", false}};
  auto page = rest_.call("POST", collection_path() + "/points/scroll", body);
  if (!page.ok()) return page.error();
  const json& points = page->is_object() ? page->value("points", json::array()) : json::array();
  if (!points.is_array() || points.empty() || !points[0].is_object()) {
    return ok_status();  // empty: holds nothing yet
  }
  const json& payload = points[0].value("payload", json::object());
  std::lock_guard lock(fingerprint_mutex_);
  held_fingerprint_ = payload.is_object() && payload.contains(kFingerprintField) &&
                              payload[kFingerprintField].is_string()
                          ? payload[kFingerprintField].get<std::string>()
                          : "";
  return ok_status();
}

std::string QdrantIndex::fingerprint() const {
  std::lock_guard lock(fingerprint_mutex_);
  return held_fingerprint_;
}

Status QdrantIndex::upsert(std::span<const Point> points) {
  for (const Point& point : points) {
    if (point.id <= 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "point id must be positive, got " + std::to_string(point.id));
    }
    if (point.vector.size() != static_cast<std::size_t>(options_.dimension)) {
      return make_error(ErrorCode::kInvalidArgument, "point " + std::to_string(point.id) + " has " +
                                                         std::to_string(point.vector.size()) +
                                                         " dimensions, the index " +
                                                         std::to_string(options_.dimension));
    }
    if (!std::all_of(point.vector.begin(), point.vector.end(),
                     [](float x) { return std::isfinite(x); })) {
      return make_error(ErrorCode::kInvalidArgument,
                        "point " + std::to_string(point.id) + " has a NaN or infinite component");
    }
  }
  std::lock_guard lock(write_mutex_);
  for (std::size_t start = 0; start < points.size(); start += tuning_.batch_size) {
    json batch = json::array();
    for (const Point& point :
         points.subspan(start, std::min(tuning_.batch_size, points.size() - start))) {
      batch.push_back({{"id", point.id},
                       {"vector", point.vector},
                       {"payload", payload_of(point, options_.fingerprint)}});
    }
    auto done = rest_.call("PUT", collection_path() + "/points?wait=true", {{"points", batch}});
    if (!done.ok()) return done.error();
  }
  return ok_status();
}

Status QdrantIndex::remove(std::span<const std::int64_t> ids) {
  std::vector<std::int64_t> valid;
  for (std::int64_t id : ids) {
    if (id > 0) valid.push_back(id);  // Qdrant ids are unsigned: others cannot be there
  }
  std::lock_guard lock(write_mutex_);
  for (std::size_t start = 0; start < valid.size(); start += tuning_.batch_size) {
    auto end = valid.begin() +
               static_cast<std::ptrdiff_t>(std::min(valid.size(), start + tuning_.batch_size));
    json body = {{"points", std::vector<std::int64_t>(
                                valid.begin() + static_cast<std::ptrdiff_t>(start), end)}};
    auto done = rest_.call("POST", collection_path() + "/points/delete?wait=true", body);
    if (!done.ok()) return done.error();
  }
  return ok_status();
}

Status QdrantIndex::clear() {
  std::lock_guard lock(write_mutex_);
  auto dropped = rest_.call("DELETE", collection_path());
  if (!dropped.ok()) return dropped.error();
  if (auto created = create_collection(); !created.ok()) return created;
  if (auto indexed = ensure_payload_indexes(json::object()); !indexed.ok()) return indexed;
  std::lock_guard fingerprint_lock(fingerprint_mutex_);
  held_fingerprint_ = options_.fingerprint;
  return ok_status();
}

Result<std::vector<SearchHit>> QdrantIndex::search(const SearchQuery& query) const {
  if (query.vector.size() != static_cast<std::size_t>(options_.dimension)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "query vector has " + std::to_string(query.vector.size()) +
                          " dimensions, the index " + std::to_string(options_.dimension));
  }
  if (query.limit <= 0) return std::vector<SearchHit>{};
  json body = {{"vector", std::vector<float>(query.vector.begin(), query.vector.end())},
               {"limit", query.limit},
               {"with_payload", {kQdrantProductIdField}},
               {"with_vector", false}};
  if (query.score_threshold) body["score_threshold"] = *query.score_threshold;
  if (json filter = qdrant_filter(query.filter); !filter.is_null()) body["filter"] = filter;
  if (query.exact) body["params"] = {{"exact", true}};
  std::string path = collection_path() + "/points/search";
  if (query.group_by_product) {
    path += "/groups";
    body["group_by"] = kQdrantProductIdField;
    body["group_size"] = 1;
  }
  auto result = rest_.call("POST", path, body);
  if (!result.ok()) return result.error();
  json scored = json::array();
  if (query.group_by_product) {
    if (!result->is_object() || !(*result)["groups"].is_array()) {
      return make_error(ErrorCode::kCorruptData, "Qdrant's group search reply has no groups");
    }
    for (const json& group : (*result)["groups"]) {
      if (group.is_object() && group.contains("hits") && group["hits"].is_array() &&
          !group["hits"].empty()) {
        scored.push_back(group["hits"][0]);
      }
    }
  } else if (result->is_array()) {
    scored = std::move(*result);
  } else {
    return make_error(ErrorCode::kCorruptData, "Qdrant's search reply is not a list of points");
  }
  std::vector<SearchHit> hits;
  for (const json& point : scored) {
    auto hit = hit_of(point);
    if (!hit.ok()) return hit.error();
    hits.push_back(*hit);
  }
  std::stable_sort(hits.begin(), hits.end(),
                   [](const SearchHit& a, const SearchHit& b) { return a.score > b.score; });
  return hits;
}

Status QdrantIndex::set_applied_seq(std::int64_t seq) {
  applied_seq_.store(seq);
  return ok_status();
}

Result<IndexInfo> QdrantIndex::info() const {
  auto counted = rest_.call("POST", collection_path() + "/points/count", {{"exact", true}});
  if (!counted.ok()) return counted.error();
  if (!counted->is_object() || !(*counted)["count"].is_number_integer()) {
    return make_error(ErrorCode::kCorruptData, "Qdrant's count reply has no count");
  }
  IndexInfo info;
  info.backend = "qdrant";
  info.kind = "qdrant";
  info.points = (*counted)["count"].get<std::int64_t>();
  info.dimension = options_.dimension;
  info.fingerprint = fingerprint();
  info.applied_seq = applied_seq();
  if (info.fingerprint != options_.fingerprint) {
    info.note = "collection '" + options_.collection + "' holds vectors of model fingerprint '" +
                info.fingerprint + "', not '" + options_.fingerprint +
                "': clear it and index the catalogue again";
  }
  return info;
}

Result<std::unique_ptr<VectorIndex>> open_qdrant_index(const IndexOptions& options) {
  return open_qdrant_index(options, QdrantTuning{});
}

Result<std::unique_ptr<VectorIndex>> open_qdrant_index(const IndexOptions& options,
                                                       const QdrantTuning& tuning) {
  auto index = QdrantIndex::open(options, tuning);
  if (!index.ok()) return index.error();
  return std::unique_ptr<VectorIndex>(std::move(*index));
}

}  // namespace lookalike::index
