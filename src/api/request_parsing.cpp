#include "api/request_parsing.h"

#include <charconv>
#include <cmath>
#include <set>

#include "ingest/source/price_parser.h"

namespace lookalike::api {

namespace {

Error invalid(const std::string& message) {
  return make_error(ErrorCode::kInvalidArgument, message);
}

Result<std::int64_t> parse_int(const std::string& name, const std::string& text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return invalid(name + ": must be an integer, got \"" + text.substr(0, 40) + "\"");
  }
  return value;
}

Result<float> parse_float(const std::string& name, const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !std::isfinite(value)) {
    return invalid(name + ": must be a number, got \"" + text.substr(0, 40) + "\"");
  }
  return static_cast<float>(value);
}

Result<std::optional<std::int64_t>> price_from_text(const std::string& name,
                                                    const std::string& text) {
  auto cents = ingest::parse_price_cents(text);
  if (!cents) return invalid(name + ": " + cents.error().message);
  if (*cents && **cents < 0) return invalid(name + ": must not be negative");
  return *cents;
}

// A price given as a JSON number or a decimal string; null → nullopt.
Result<std::optional<std::int64_t>> price_from_json(const std::string& name,
                                                    const nlohmann::json& value) {
  if (value.is_null()) return std::optional<std::int64_t>();
  if (value.is_string()) return price_from_text(name, value.get<std::string>());
  if (value.is_number()) {
    double number = value.get<double>();
    // Checked after rounding to cents: 99999999.995 rounds past the largest DECIMAL(10,2).
    if (!std::isfinite(number) || number < 0 || number >= 1e8 ||
        std::llround(number * 100) > catalog::kMaxPriceCents) {
      return invalid(name + ": must be a price between 0 and 99999999.99");
    }
    return std::optional<std::int64_t>(std::llround(number * 100));
  }
  return invalid(name + ": must be a number or a decimal string");
}

Result<std::int64_t> json_int(const std::string& name, const nlohmann::json& value) {
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number_float()) {
    double number = value.get<double>();
    if (std::trunc(number) == number && std::abs(number) < 1e15) {
      return static_cast<std::int64_t>(number);
    }
  }
  return invalid(name + ": must be an integer");
}

Result<std::string> json_string(const std::string& name, const nlohmann::json& value) {
  if (!value.is_string()) return invalid(name + ": must be a string");
  return value.get<std::string>();
}

Status check_keys(const nlohmann::json& object, const std::set<std::string>& allowed,
                  const std::string& where) {
  for (const auto& [key, value] : object.items()) {
    if (!allowed.contains(key)) {
      std::string names;
      for (const auto& name : allowed) names += (names.empty() ? "" : ", ") + name;
      return invalid(where + "unknown field \"" + key + "\" (allowed: " + names + ")");
    }
  }
  return ok_status();
}

}  // namespace

HttpError request_http_error_for(const Error& error) {
  if (error.code == ErrorCode::kCorruptData) {
    return make_http_error(400, "malformed_json", error.message);
  }
  if (error.code == ErrorCode::kUnsupported) {
    return make_http_error(415, "unsupported_media_type", error.message);
  }
  return http_error_for(error);
}

Result<nlohmann::json> parse_json_object(const std::string& body, bool allow_empty) {
  if (body.empty() && allow_empty) return nlohmann::json::object();
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded()) {
    return make_error(ErrorCode::kCorruptData, "the request body is not valid JSON");
  }
  if (!json.is_object()) {
    return make_error(ErrorCode::kCorruptData, "the request body must be a JSON object");
  }
  return json;
}

Result<std::int64_t> int_field(const FieldLookup& field, const std::string& name,
                               std::int64_t fallback, std::int64_t min, std::int64_t max) {
  auto text = field(name);
  if (!text) return fallback;
  auto value = parse_int(name, *text);
  if (!value) return value;
  if (*value < min || *value > max) {
    return invalid(name + ": must be between " + std::to_string(min) + " and " +
                   std::to_string(max));
  }
  return value;
}

Result<search::SearchParams> search_params_from_fields(const FieldLookup& field) {
  search::SearchParams params;
  if (auto text = field("top_k")) {
    auto value = parse_int("top_k", *text);
    if (!value) return value.error();
    if (*value < 1 || *value > 1000) return invalid("top_k: must be between 1 and 1000");
    params.top_k = static_cast<int>(*value);
  }
  if (auto text = field("offset")) {
    auto value = parse_int("offset", *text);
    if (!value) return value.error();
    if (*value < 0 || *value > 10000) return invalid("offset: must be between 0 and 10000");
    params.offset = static_cast<int>(*value);
  }
  if (auto text = field("threshold"); text && !text->empty()) {
    auto value = parse_float("threshold", *text);
    if (!value) return value.error();
    params.threshold = *value;
  }
  if (auto text = field("category")) params.filter.category = *text;
  if (auto text = field("min_price"); text && !text->empty()) {
    auto cents = price_from_text("min_price", *text);
    if (!cents) return cents.error();
    params.filter.min_price_cents = *cents;
  }
  if (auto text = field("max_price"); text && !text->empty()) {
    auto cents = price_from_text("max_price", *text);
    if (!cents) return cents.error();
    params.filter.max_price_cents = *cents;
  }
  if (auto status = search::validate_search_params(params); !status) return status.error();
  return params;
}

Result<search::SearchParams> search_params_from_json(const nlohmann::json& body, bool allow_query) {
  std::set<std::string> allowed{"top_k", "threshold", "offset", "filters"};
  if (allow_query) allowed.insert("query");
  if (auto status = check_keys(body, allowed, ""); !status) return status.error();
  search::SearchParams params;
  if (body.contains("top_k") && !body["top_k"].is_null()) {
    auto value = json_int("top_k", body["top_k"]);
    if (!value) return value.error();
    if (*value < 1 || *value > 1000) return invalid("top_k: must be between 1 and 1000");
    params.top_k = static_cast<int>(*value);
  }
  if (body.contains("offset") && !body["offset"].is_null()) {
    auto value = json_int("offset", body["offset"]);
    if (!value) return value.error();
    if (*value < 0 || *value > 10000) return invalid("offset: must be between 0 and 10000");
    params.offset = static_cast<int>(*value);
  }
  if (body.contains("threshold") && !body["threshold"].is_null()) {
    if (!body["threshold"].is_number()) return invalid("threshold: must be a number or null");
    params.threshold = body["threshold"].get<float>();
  }
  if (body.contains("filters") && !body["filters"].is_null()) {
    const auto& filters = body["filters"];
    if (!filters.is_object()) return invalid("filters: must be an object");
    if (auto status = check_keys(filters, {"category", "min_price", "max_price"}, "filters: ");
        !status) {
      return status.error();
    }
    if (filters.contains("category") && !filters["category"].is_null()) {
      auto category = json_string("filters.category", filters["category"]);
      if (!category) return category.error();
      params.filter.category = *category;
    }
    for (const char* name : {"min_price", "max_price"}) {
      if (!filters.contains(name)) continue;
      auto cents = price_from_json(std::string("filters.") + name, filters[name]);
      if (!cents) return cents.error();
      (std::string(name) == "min_price" ? params.filter.min_price_cents
                                        : params.filter.max_price_cents) = *cents;
    }
  }
  if (auto status = search::validate_search_params(params); !status) return status.error();
  return params;
}

Status apply_product_json(const nlohmann::json& body, ProductInputMode mode,
                          catalog::Product& product) {
  static const std::set<std::string> kAllowed{
      "external_id",      "title", "description", "category", "price",      "currency",  "metadata",
      "product_metadata", "id",    "image_url",   "images",   "created_at", "updated_at"};
  if (auto status = check_keys(body, kAllowed, ""); !status) return status;
  const bool patch = mode == ProductInputMode::kPatch;
  auto has = [&](const char* key) { return body.contains(key); };

  if (has("external_id")) {
    auto id = json_string("external_id", body["external_id"]);
    if (!id) return id.error();
    if (mode == ProductInputMode::kCreate) {
      product.external_id = *id;
    } else if (*id != product.external_id) {
      return invalid("external_id: cannot be changed (create a new product instead)");
    }
  } else if (mode == ProductInputMode::kCreate) {
    return invalid("external_id: required");
  }
  if (has("title")) {
    auto title = json_string("title", body["title"]);
    if (!title) return title.error();
    product.title = *title;
  } else if (!patch) {
    return invalid("title: required");
  }
  // Optional text fields: null (or, for PUT, absence) clears them.
  for (auto [key, field] :
       {std::pair{"description", &product.description}, std::pair{"category", &product.category},
        std::pair{"currency", &product.currency}}) {
    if (has(key) && !body[key].is_null()) {
      auto text = json_string(key, body[key]);
      if (!text) return text.error();
      *field = *text;
    } else if (has(key) || !patch) {
      field->clear();
    }
  }
  if (has("price")) {
    auto cents = price_from_json("price", body["price"]);
    if (!cents) return cents.error();
    product.price_cents = *cents;
  } else if (!patch) {
    product.price_cents.reset();
  }
  const char* metadata_key = has("metadata") ? "metadata" : "product_metadata";
  if (has(metadata_key) && !body[metadata_key].is_null()) {
    if (!body[metadata_key].is_object())
      return invalid(std::string(metadata_key) + ": must be an object");
    product.metadata = body[metadata_key];
  } else if (has(metadata_key) || !patch) {
    product.metadata = nlohmann::json::object();
  }
  return ok_status();
}

}  // namespace lookalike::api
