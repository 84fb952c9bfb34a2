// Request-reading helpers of QdrantStandIn and its evaluation of Qdrant filters (must / should /
// must_not; match value/any, range, has_id, is_empty, is_null, nested filters). Requests Qdrant
// would refuse throw ApiError with Qdrant's status and error text. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace lookalike::testing::qdrant_stand_in {

struct ApiError {
  int status = 400;
  std::string message;  // the body's status.error
};

// Qdrant's ExtendedPointId: an unsigned integer or a UUID (integers sort first, as in Qdrant).
using PointId = std::variant<std::uint64_t, std::string>;

// 400 "Format error in JSON body: …" (what Qdrant answers for a body that does not deserialise).
[[noreturn]] void format_error(const std::string& detail);
// 422 "Validation error in JSON body: [detail]".
[[noreturn]] void validation_error(const std::string& detail);
// 400 for a valid request the stand-in does not implement (so a test cannot silently rely on it).
[[noreturn]] void not_emulated(const std::string& what);

// body[field], or a format error naming the missing field.
const nlohmann::json& required(const nlohmann::json& body, const char* field);
// body[field], or `fallback` when absent or null.
nlohmann::json optional(const nlohmann::json& body, const char* field,
                        nlohmann::json fallback = nullptr);

PointId parse_id(const nlohmann::json& value);
nlohmann::json id_json(const PointId& id);

// The values of a payload key (dotted keys walk nested objects); an array gives its elements.
std::vector<nlohmann::json> field_values(const nlohmann::json& payload, const std::string& key);
// Qdrant's exact match: strings, integers and booleans, never across types.
bool same_value(const nlohmann::json& a, const nlohmann::json& b);

// Whether a point passes a Filter (null: every point).
bool filter_matches(const nlohmann::json& filter, const PointId& id, const nlohmann::json& payload);

}  // namespace lookalike::testing::qdrant_stand_in
