// Turning request bodies, query strings and form fields into typed values, with errors that name
// the offending field. Malformed JSON is kCorruptData (→ 400 malformed_json), wrong types and
// ranges kInvalidArgument (→ 400 invalid_argument); request_http_error_for maps them.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/http_error.h"
#include "catalog/product.h"
#include "core/result.h"
#include "search/product_searcher.h"

namespace lookalike::api {

HttpError request_http_error_for(const Error& error);

// The body as a JSON object (an empty body is an empty object when `allow_empty`).
Result<nlohmann::json> parse_json_object(const std::string& body, bool allow_empty = false);

// A field getter over query parameters or form fields: nullopt when absent.
using FieldLookup = std::function<std::optional<std::string>(const std::string& name)>;

// top_k, offset, threshold, category, min_price, max_price from text fields (by-image form or
// query string, by-product query string).
Result<search::SearchParams> search_params_from_fields(const FieldLookup& field);
// {"top_k", "threshold", "offset", "filters": {"category", "min_price", "max_price"}} (by-text,
// by-product bodies). Unknown keys are refused so typos do not pass silently.
Result<search::SearchParams> search_params_from_json(const nlohmann::json& body, bool allow_query);

// Integer query parameter within [min, max]; `fallback` when absent.
Result<std::int64_t> int_field(const FieldLookup& field, const std::string& name,
                               std::int64_t fallback, std::int64_t min, std::int64_t max);

enum class ProductInputMode {
  kCreate,   // external_id and title required
  kReplace,  // PUT: title required, absent optional fields cleared
  kPatch,    // only the fields given; null clears
};
// Applies a product body to `product` (the stored one for PUT/PATCH). Read-only fields of a
// PRODUCT answer (id, image_url, images, created_at, updated_at) are ignored, so a GET answer can
// be sent back; external_id may not change.
Status apply_product_json(const nlohmann::json& body, ProductInputMode mode,
                          catalog::Product& product);

}  // namespace lookalike::api
