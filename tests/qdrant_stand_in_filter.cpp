#include "qdrant_stand_in_filter.h"

#include <algorithm>
#include <cctype>
#include <functional>

namespace lookalike::testing::qdrant_stand_in {

using nlohmann::json;

[[noreturn]] void format_error(const std::string& detail) {
  throw ApiError{400, "Format error in JSON body: " + detail};
}

[[noreturn]] void validation_error(const std::string& detail) {
  throw ApiError{422, "Validation error in JSON body: [" + detail + "]"};
}

[[noreturn]] void not_emulated(const std::string& what) {
  throw ApiError{400, "Wrong input: the Qdrant stand-in does not emulate " + what};
}

const json& required(const json& body, const char* field) {
  if (!body.is_object()) format_error("invalid type: expected a JSON object");
  auto it = body.find(field);
  if (it == body.end()) format_error(std::string("missing field `") + field + "`");
  return *it;
}

json optional(const json& body, const char* field, json fallback) {
  auto it = body.find(field);
  return it == body.end() || it->is_null() ? fallback : *it;
}

namespace {

bool is_uuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

}  // namespace

PointId parse_id(const json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_string() && is_uuid(value.get<std::string>())) {
    std::string id = value.get<std::string>();
    std::transform(id.begin(), id.end(), id.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return id;
  }
  format_error("value " + value.dump() +
               " is not a valid point ID, valid values are either an unsigned integer or a UUID");
}

json id_json(const PointId& id) {
  if (const auto* n = std::get_if<std::uint64_t>(&id)) return *n;
  return std::get<std::string>(id);
}

// The values of a payload key (dotted keys walk nested objects); arrays give each element.
std::vector<json> field_values(const json& payload, const std::string& key) {
  const json* node = &payload;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = key.find('.', start);
    std::string part =
        key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object() || !node->contains(part)) return {};
    node = &(*node)[part];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (node->is_array()) return node->get<std::vector<json>>();
  return {*node};
}

bool same_value(const json& a, const json& b) {
  if (a.is_string() && b.is_string()) return a == b;
  if (a.is_boolean() && b.is_boolean()) return a == b;
  if (a.is_number_integer() && b.is_number_integer())
    return a.get<std::int64_t>() == b.get<std::int64_t>();
  return false;
}

namespace {

// must / should / must_not hold one Condition or an array of them.
std::vector<json> as_list(const json& value) {
  if (value.is_null()) return {};
  if (value.is_array()) return value.get<std::vector<json>>();
  return {value};
}

bool field_matches(const json& condition, const json& payload) {
  std::string key = required(condition, "key").get<std::string>();
  std::vector<json> values = field_values(payload, key);
  bool any_test = false;
  if (json match = optional(condition, "match"); !match.is_null()) {
    any_test = true;
    if (match.contains("value")) {
      const json& wanted = match["value"];
      if (!wanted.is_string() && !wanted.is_number_integer() && !wanted.is_boolean()) {
        format_error("data did not match any variant of untagged enum ValueVariants");
      }
      if (std::none_of(values.begin(), values.end(),
                       [&](const json& v) { return same_value(v, wanted); })) {
        return false;
      }
    } else if (match.contains("any")) {
      const json& any = match["any"];
      if (!any.is_array())
        format_error("data did not match any variant of untagged enum AnyVariants");
      bool found = std::any_of(values.begin(), values.end(), [&](const json& v) {
        return std::any_of(any.begin(), any.end(), [&](const json& w) { return same_value(v, w); });
      });
      if (!found) return false;
    } else if (match.contains("text") || match.contains("except")) {
      not_emulated("match text/except");
    } else {
      format_error("data did not match any variant of untagged enum Match");
    }
  }
  if (json range = optional(condition, "range"); !range.is_null()) {
    any_test = true;
    for (const auto& [bound, limit] : range.items()) {
      if (!limit.is_null() && !limit.is_number()) not_emulated("datetime ranges");
      if (bound != "gt" && bound != "gte" && bound != "lt" && bound != "lte") {
        format_error("unknown field `" + bound + "`, expected one of `lt`, `gt`, `gte`, `lte`");
      }
    }
    auto in_range = [&](const json& v) {
      if (!v.is_number()) return false;
      double x = v.get<double>();
      auto check = [&](const char* bound, auto ok) {
        return !range.contains(bound) || range[bound].is_null() ||
               ok(x, range[bound].get<double>());
      };
      return check("gt", std::greater<>()) && check("gte", std::greater_equal<>()) &&
             check("lt", std::less<>()) && check("lte", std::less_equal<>());
    };
    if (std::none_of(values.begin(), values.end(), in_range)) return false;
  }
  for (const char* other : {"geo_bounding_box", "geo_radius", "geo_polygon", "values_count"}) {
    if (!optional(condition, other).is_null()) not_emulated(std::string(other) + " conditions");
  }
  if (!any_test) validation_error("At least one field condition must be specified");
  return true;
}

}  // namespace

bool filter_matches(const json& filter, const PointId& id, const json& payload) {
  if (filter.is_null()) return true;
  if (!filter.is_object()) format_error("invalid type: expected struct Filter");
  for (const auto& [key, unused] : filter.items()) {
    if (key == "min_should") not_emulated("min_should");
    if (key != "must" && key != "should" && key != "must_not") {
      format_error("unknown field `" + key +
                   "`, expected one of `should`, `min_should`, `must`, `must_not`");
    }
  }
  auto check = [&](const json& condition) -> bool {
    if (!condition.is_object())
      format_error("data did not match any variant of untagged enum Condition");
    if (condition.contains("key")) return field_matches(condition, payload);
    if (condition.contains("has_id")) {
      const json& ids = condition["has_id"];
      return std::any_of(ids.begin(), ids.end(), [&](const json& i) { return parse_id(i) == id; });
    }
    if (condition.contains("is_empty") || condition.contains("is_null")) {
      bool empty = condition.contains("is_empty");
      std::string key =
          required(condition[empty ? "is_empty" : "is_null"], "key").get<std::string>();
      std::vector<json> values = field_values(payload, key);
      if (empty)
        return std::all_of(values.begin(), values.end(), [](const json& v) { return v.is_null(); });
      return values.size() == 1 && values[0].is_null();
    }
    if (condition.contains("nested")) not_emulated("nested conditions");
    if (condition.empty() || condition.contains("must") || condition.contains("should") ||
        condition.contains("must_not") || condition.contains("min_should")) {
      return filter_matches(condition, id, payload);
    }
    format_error("data did not match any variant of untagged enum Condition");
  };
  for (const auto& c : as_list(optional(filter, "must"))) {
    if (!check(c)) return false;
  }
  for (const auto& c : as_list(optional(filter, "must_not"))) {
    if (check(c)) return false;
  }
  std::vector<json> should = as_list(optional(filter, "should"));
  return should.empty() || std::any_of(should.begin(), should.end(), check);
}

}  // namespace lookalike::testing::qdrant_stand_in
