#include "qdrant_stand_in_store.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <set>

namespace lookalike::testing::qdrant_stand_in {

using nlohmann::json;

namespace {

// A count that must be at least 1 (422 otherwise); required when there is no fallback.
std::uint64_t positive(const json& body, const char* field, std::optional<std::uint64_t> fallback) {
  json value = fallback ? optional(body, field, *fallback) : required(body, field);
  if (!value.is_number_unsigned()) format_error(std::string("invalid value for `") + field + "`");
  auto n = value.get<std::uint64_t>();
  if (n < 1) validation_error(std::string(field) + ": value 0 invalid, must be 1 or larger");
  return n;
}

json select_payload(const json& payload, const json& with) {
  if (with.is_null() || (with.is_boolean() && !with.get<bool>())) return nullptr;
  if (with.is_boolean()) return payload;
  json selected = json::object();
  if (with.is_array() || with.contains("include")) {
    for (const auto& key : with.is_array() ? with : with["include"]) {
      std::string name = key.get<std::string>();
      if (payload.contains(name)) selected[name] = payload[name];
    }
    return selected;
  }
  if (with.contains("exclude")) {
    selected = payload;
    for (const auto& key : with["exclude"]) selected.erase(key.get<std::string>());
    return selected;
  }
  format_error("data did not match any variant of untagged enum WithPayloadInterface");
}

json select_vector(const std::vector<float>& vector, const json& with) {
  if (with.is_boolean() ? with.get<bool>() : (with.is_array() && !with.empty())) return vector;
  return nullptr;
}

json record(const PointId& id, const StoredPoint& point, const json& with_payload,
            const json& with_vector) {
  return {{"id", id_json(id)},
          {"payload", select_payload(point.payload, with_payload)},
          {"vector", select_vector(point.vector, with_vector)}};
}

}  // namespace

Collection Collection::create(const json& body) {
  json vectors = optional(body, "vectors");
  if (vectors.is_null()) not_emulated("collections without an unnamed dense vector");
  if (!vectors.is_object() || !vectors.contains("size")) not_emulated("named vectors");
  Collection c;
  if (!vectors["size"].is_number_unsigned()) format_error("invalid type for `vectors.size`");
  c.size_ = vectors["size"].get<std::size_t>();
  if (c.size_ < 1) validation_error("vectors.size: value 0 invalid, must be 1 or larger");
  c.distance_ = required(vectors, "distance").get<std::string>();
  if (c.distance_ != "Cosine" && c.distance_ != "Euclid" && c.distance_ != "Dot" &&
      c.distance_ != "Manhattan") {
    format_error("unknown variant `" + c.distance_ +
                 "`, expected one of `Cosine`, `Euclid`, `Dot`, `Manhattan`");
  }
  return c;
}

json Collection::info() const {
  json schema = json::object();
  for (const auto& [field, type] : payload_schema_) {
    std::size_t with_field = std::count_if(points_.begin(), points_.end(), [&](const auto& p) {
      return !field_values(p.second.payload, field).empty();
    });
    schema[field] = {{"data_type", type}, {"points", with_field}};
  }
  json params = {{"vectors", {{"size", size_}, {"distance", distance_}}},
                 {"shard_number", 1},
                 {"replication_factor", 1},
                 {"write_consistency_factor", 1},
                 {"on_disk_payload", true}};
  json config = {{"params", params},
                 {"hnsw_config",
                  {{"m", 16},
                   {"ef_construct", 100},
                   {"full_scan_threshold", 10000},
                   {"max_indexing_threads", 0},
                   {"on_disk", false}}},
                 {"optimizer_config",
                  {{"deleted_threshold", 0.2},
                   {"vacuum_min_vector_number", 1000},
                   {"default_segment_number", 0},
                   {"max_segment_size", nullptr},
                   {"memmap_threshold", nullptr},
                   {"indexing_threshold", 20000},
                   {"flush_interval_sec", 5},
                   {"max_optimization_threads", nullptr}}},
                 {"wal_config", {{"wal_capacity_mb", 32}, {"wal_segments_ahead", 0}}},
                 {"quantization_config", nullptr}};
  return {{"status", "green"},
          {"optimizer_status", "ok"},
          {"vectors_count", points_.size()},
          {"indexed_vectors_count", 0},
          {"points_count", points_.size()},
          {"segments_count", 1},
          {"config", config},
          {"payload_schema", schema}};
}

json Collection::update_result(bool wait) {
  return {{"operation_id", next_operation_++}, {"status", wait ? "completed" : "acknowledged"}};
}

json Collection::create_index(const json& body, bool wait) {
  std::string field = required(body, "field_name").get<std::string>();
  json schema = optional(body, "field_schema");
  if (schema.is_null()) not_emulated("payload indexes without field_schema");
  std::string type =
      schema.is_object() ? required(schema, "type").get<std::string>() : schema.get<std::string>();
  static const std::set<std::string> kTypes = {"keyword", "integer", "float",   "geo",
                                               "text",    "bool",    "datetime"};
  if (!kTypes.contains(type)) {
    format_error("unknown variant `" + type +
                 "`, expected one of `keyword`, `integer`, `float`, `geo`, `text`, `bool`, "
                 "`datetime`");
  }
  payload_schema_[field] = type;
  return update_result(wait);
}

std::vector<float> Collection::parse_vector(const json& value) const {
  const json* array = &value;
  if (value.is_object()) {  // {"name": "", "vector": [...]} (search) or {"": [...]} (upsert)
    std::string name = value.contains("name") ? value["name"].get<std::string>()
                                              : (value.empty() ? "" : value.begin().key());
    if (!name.empty()) throw ApiError{400, "Wrong input: Not existing vector name error: " + name};
    array = value.contains("vector") ? &value["vector"] : &value.begin().value();
  }
  if (!array->is_array())
    format_error("data did not match any variant of untagged enum VectorStruct");
  std::vector<float> vector = array->get<std::vector<float>>();
  if (vector.size() != size_) {
    throw ApiError{400, "Wrong input: Vector dimension error: expected dim: " +
                            std::to_string(size_) + ", got " + std::to_string(vector.size())};
  }
  if (distance_ == "Cosine") {  // Qdrant stores (and compares) cosine vectors normalised
    double norm = 0;
    for (float x : vector) norm += double(x) * x;
    if (norm > 0) {
      for (float& x : vector) x = static_cast<float>(x / std::sqrt(norm));
    }
  }
  return vector;
}

json Collection::upsert(const json& body, bool wait) {
  std::vector<std::pair<PointId, StoredPoint>> incoming;
  auto add = [&](const json& id, const json& vector, const json& payload) {
    if (!payload.is_null() && !payload.is_object()) format_error("payload must be a JSON object");
    StoredPoint point{parse_vector(vector), payload.is_null() ? json::object() : payload, 0};
    incoming.emplace_back(parse_id(id), std::move(point));
  };
  if (body.contains("points")) {
    for (const auto& p : required(body, "points")) {
      add(required(p, "id"), required(p, "vector"), optional(p, "payload"));
    }
  } else if (body.contains("batch")) {
    const json& batch = body["batch"];
    const json& ids = required(batch, "ids");
    const json& vectors = required(batch, "vectors");
    json payloads = optional(batch, "payloads", json::array());
    if (!ids.is_array() || !vectors.is_array() || ids.size() != vectors.size() ||
        (!payloads.empty() && payloads.size() != ids.size())) {
      throw ApiError{
          422, "Validation error in JSON body: [batch: number of ids and vectors must be equal]"};
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
      add(ids[i], vectors[i], payloads.empty() ? json(nullptr) : payloads[i]);
    }
  } else {
    format_error("data did not match any variant of untagged enum PointInsertOperations");
  }
  json result = update_result(wait);
  for (auto& [id, point] : incoming) {
    point.version = result["operation_id"].get<std::uint64_t>();
    points_[id] = std::move(point);
  }
  return result;
}

json Collection::remove(const json& body, bool wait) {
  if (body.contains("points")) {
    std::vector<PointId> ids;
    for (const auto& id : body["points"]) ids.push_back(parse_id(id));
    for (const auto& id : ids) points_.erase(id);
  } else if (body.contains("filter")) {
    const json& filter = body["filter"];
    for (auto it = points_.begin(); it != points_.end();) {
      it =
          filter_matches(filter, it->first, it->second.payload) ? points_.erase(it) : std::next(it);
    }
  } else {
    format_error("data did not match any variant of untagged enum PointsSelector");
  }
  return update_result(wait);
}

std::vector<Collection::Hit> Collection::scored(const json& body) const {
  std::vector<float> query = parse_vector(required(body, "vector"));
  json filter = optional(body, "filter");
  json threshold = optional(body, "score_threshold");
  bool distance = distance_ == "Euclid" || distance_ == "Manhattan";
  std::vector<Hit> hits;
  for (const auto& [id, point] : points_) {
    if (!filter_matches(filter, id, point.payload)) continue;
    double score = 0;
    for (std::size_t i = 0; i < size_; ++i) {
      double d = double(query[i]) - point.vector[i];
      if (distance_ == "Euclid") score += d * d;
      if (distance_ == "Manhattan") score += std::abs(d);
      if (!distance) score += double(query[i]) * point.vector[i];
    }
    if (distance_ == "Euclid") score = std::sqrt(score);
    auto s = static_cast<float>(score);
    if (!threshold.is_null() &&
        (distance ? s > threshold.get<float>() : s < threshold.get<float>())) {
      continue;
    }
    hits.push_back({&id, &point, s});
  }
  std::stable_sort(hits.begin(), hits.end(), [&](const Hit& a, const Hit& b) {
    return distance ? a.score < b.score : a.score > b.score;
  });
  return hits;
}

json Collection::search(const json& body) const {
  std::uint64_t limit = positive(body, "limit", std::nullopt);
  std::uint64_t offset = optional(body, "offset", 0).get<std::uint64_t>();
  json with_payload = optional(body, "with_payload", false);
  json with_vector = optional(body, "with_vector", false);
  json result = json::array();
  std::vector<Hit> hits = scored(body);
  for (std::size_t i = offset; i < hits.size() && result.size() < limit; ++i) {
    json point = record(*hits[i].id, *hits[i].point, with_payload, with_vector);
    point["version"] = hits[i].point->version;
    point["score"] = hits[i].score;
    result.push_back(point);
  }
  return result;
}

json Collection::search_groups(const json& body) const {
  std::string group_by = required(body, "group_by").get<std::string>();
  if (group_by.empty()) validation_error("group_by: length must be at least 1");
  std::uint64_t group_size = positive(body, "group_size", std::nullopt);
  std::uint64_t limit = positive(body, "limit", std::nullopt);
  json with_payload = optional(body, "with_payload", false);
  json with_vector = optional(body, "with_vector", false);
  json groups = json::array();
  for (const Hit& hit : scored(body)) {
    for (const json& key : field_values(hit.point->payload, group_by)) {
      if (!key.is_string() && !key.is_number_integer()) continue;
      auto group = std::find_if(groups.begin(), groups.end(),
                                [&](const json& g) { return same_value(g["id"], key); });
      if (group == groups.end()) {
        if (groups.size() >= limit) continue;
        groups.push_back({{"id", key}, {"hits", json::array()}});
        group = std::prev(groups.end());
      }
      if ((*group)["hits"].size() >= group_size) continue;
      json point = record(*hit.id, *hit.point, with_payload, with_vector);
      point["version"] = hit.point->version;
      point["score"] = hit.score;
      (*group)["hits"].push_back(point);
    }
  }
  return {{"groups", groups}};
}

json Collection::scroll(const json& body) const {
  std::uint64_t limit = positive(body, "limit", 10);
  json offset = optional(body, "offset");
  json filter = optional(body, "filter");
  json with_payload = optional(body, "with_payload", true);
  json with_vector = optional(body, "with_vector", false);
  json points = json::array();
  json next = nullptr;
  auto it = offset.is_null() ? points_.begin() : points_.lower_bound(parse_id(offset));
  for (; it != points_.end(); ++it) {
    if (!filter_matches(filter, it->first, it->second.payload)) continue;
    if (points.size() == limit) {
      next = id_json(it->first);
      break;
    }
    points.push_back(record(it->first, it->second, with_payload, with_vector));
  }
  return {{"points", points}, {"next_page_offset", next}};
}

json Collection::count(const json& body) const {
  json filter = optional(body, "filter");
  std::size_t n = std::count_if(points_.begin(), points_.end(), [&](const auto& p) {
    return filter_matches(filter, p.first, p.second.payload);
  });
  return {{"count", n}};
}

json Collection::get_point(const std::string& id) const {
  json parsed = !id.empty() && std::all_of(id.begin(), id.end(), ::isdigit) ? json(std::stoull(id))
                                                                            : json(id);
  PointId key;
  try {
    key = parse_id(parsed);
  } catch (const ApiError&) {
    throw ApiError{400, "Format error in path parameters: " + id + " is not a valid point ID"};
  }
  auto it = points_.find(key);
  if (it == points_.end()) throw ApiError{404, "Not found: No point with id " + id + " found"};
  return record(it->first, it->second, true, true);
}

}  // namespace lookalike::testing::qdrant_stand_in
