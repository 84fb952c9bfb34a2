// Request parsing (api/request_parsing.h): JSON bodies, search parameters from fields and JSON,
// integer query parameters and product bodies for create, replace and patch.
#include "api/request_parsing.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace lookalike::api {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// parse_json_object and request_http_error_for

TEST(ParseJsonObjectTest, ObjectsParse) {
  auto empty = parse_json_object("{}");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, json::object());
  auto object = parse_json_object(R"(  {"query": "red bag", "top_k": 5}  )");
  ASSERT_TRUE(object.ok()) << object.error().message;
  EXPECT_EQ((*object)["query"], "red bag");
  EXPECT_EQ((*object)["top_k"], 5);
}

TEST(ParseJsonObjectTest, MalformedIsCorruptData) {
  for (const char* body : {"{", "{\"a\":}", "{} extra", "not json", "{'a': 1}", "\xff\xfe"}) {
    auto result = parse_json_object(body);
    ASSERT_FALSE(result.ok()) << body;
    EXPECT_EQ(result.error().code, ErrorCode::kCorruptData) << body;
  }
}

TEST(ParseJsonObjectTest, NonObjectsAreCorruptData) {
  for (const char* body : {"[]", "[{\"a\": 1}]", "null", "42", "\"text\"", "true"}) {
    auto result = parse_json_object(body);
    ASSERT_FALSE(result.ok()) << body;
    EXPECT_EQ(result.error().code, ErrorCode::kCorruptData) << body;
    EXPECT_NE(result.error().message.find("object"), std::string::npos) << body;
  }
}

TEST(ParseJsonObjectTest, EmptyBodyOnlyWhenAllowed) {
  auto allowed = parse_json_object("", true);
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(*allowed, json::object());

  auto refused = parse_json_object("", false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kCorruptData);
  auto refused_default = parse_json_object("");
  ASSERT_FALSE(refused_default.ok());
  EXPECT_EQ(refused_default.error().code, ErrorCode::kCorruptData);

  // allow_empty is about an empty body only: malformed is still malformed.
  auto malformed = parse_json_object("[", true);
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code, ErrorCode::kCorruptData);
}

TEST(RequestHttpErrorTest, Mapping) {
  auto malformed = request_http_error_for(make_error(ErrorCode::kCorruptData, "not JSON"));
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(malformed.code, "malformed_json");
  EXPECT_EQ(malformed.message, "not JSON");

  auto unsupported = request_http_error_for(make_error(ErrorCode::kUnsupported, "text/plain"));
  EXPECT_EQ(unsupported.status, 415);
  EXPECT_EQ(unsupported.code, "unsupported_media_type");

  auto invalid = request_http_error_for(make_error(ErrorCode::kInvalidArgument, "top_k"));
  EXPECT_EQ(invalid.status, 400);
  EXPECT_EQ(invalid.code, "invalid_argument");
  EXPECT_EQ(invalid.message, "top_k");

  // Everything else as http_error_for maps it.
  auto not_found = request_http_error_for(make_error(ErrorCode::kNotFound, "x"));
  EXPECT_EQ(not_found.status, 404);
  EXPECT_EQ(not_found.code, "not_found");
  auto exhausted = request_http_error_for(make_error(ErrorCode::kResourceExhausted, "x"));
  EXPECT_EQ(exhausted.status, 413);
}

// ---------------------------------------------------------------------------------------------
// search_params_from_fields

using Fields = std::map<std::string, std::string>;

FieldLookup lookup(const Fields& fields) {
  return [fields](const std::string& name) -> std::optional<std::string> {
    auto it = fields.find(name);
    if (it == fields.end()) return std::nullopt;
    return it->second;
  };
}

Result<search::SearchParams> from_fields(const Fields& fields) {
  return search_params_from_fields(lookup(fields));
}

void expect_invalid(const Result<search::SearchParams>& result, const std::string& mentions,
                    const std::string& what) {
  ASSERT_FALSE(result.ok()) << what;
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument) << what;
  EXPECT_NE(result.error().message.find(mentions), std::string::npos)
      << what << ": " << result.error().message;
}

TEST(SearchParamsFromFieldsTest, Defaults) {
  auto params = from_fields({});
  ASSERT_TRUE(params.ok()) << params.error().message;
  EXPECT_EQ(params->top_k, 20);
  EXPECT_EQ(params->offset, 0);
  EXPECT_FALSE(params->threshold.has_value());
  EXPECT_TRUE(params->filter.empty());
}

TEST(SearchParamsFromFieldsTest, AllFields) {
  auto params = from_fields({{"top_k", "7"},
                             {"offset", "14"},
                             {"threshold", "0.25"},
                             {"category", "bags"},
                             {"min_price", "19.99"},
                             {"max_price", "1,50"},
                             {"ignored", "x"}});
  // min 19.99 > max 1.50: refused. The same with a sensible range:
  expect_invalid(params, "min_price", "min > max");
  params = from_fields({{"top_k", "7"},
                        {"offset", "14"},
                        {"threshold", "0.25"},
                        {"category", "bags"},
                        {"min_price", "1,50"},
                        {"max_price", "19.99"}});
  ASSERT_TRUE(params.ok()) << params.error().message;
  EXPECT_EQ(params->top_k, 7);
  EXPECT_EQ(params->offset, 14);
  ASSERT_TRUE(params->threshold.has_value());
  EXPECT_FLOAT_EQ(*params->threshold, 0.25f);
  EXPECT_EQ(params->filter.category, "bags");
  EXPECT_EQ(params->filter.min_price_cents, 150);
  EXPECT_EQ(params->filter.max_price_cents, 1999);
}

TEST(SearchParamsFromFieldsTest, TopKRange) {
  EXPECT_EQ(from_fields({{"top_k", "1"}})->top_k, 1);
  EXPECT_EQ(from_fields({{"top_k", "1000"}})->top_k, 1000);
  for (const char* bad :
       {"0", "1001", "-1", "abc", "", "5.0", " 5", "5 ", "1e2", "99999999999999"}) {
    expect_invalid(from_fields({{"top_k", bad}}), "top_k", bad);
  }
}

TEST(SearchParamsFromFieldsTest, OffsetRange) {
  EXPECT_EQ(from_fields({{"offset", "0"}})->offset, 0);
  EXPECT_EQ(from_fields({{"offset", "9980"}})->offset, 9980);  // + top_k 20 = 10000
  for (const char* bad : {"-1", "10001", "x", ""}) {
    expect_invalid(from_fields({{"offset", bad}}), "offset", bad);
  }
  // offset + top_k at most 10000.
  auto max = from_fields({{"offset", "9000"}, {"top_k", "1000"}});
  ASSERT_TRUE(max.ok()) << max.error().message;
  expect_invalid(from_fields({{"offset", "9001"}, {"top_k", "1000"}}), "offset", "9001+1000");
  expect_invalid(from_fields({{"offset", "9981"}}), "offset", "9981+20");
  expect_invalid(from_fields({{"offset", "10000"}, {"top_k", "1"}}), "offset", "10000+1");
}

TEST(SearchParamsFromFieldsTest, ThresholdRange) {
  for (const char* good : {"-1", "1", "0", "0.5", "-0.75", "1.0"}) {
    auto params = from_fields({{"threshold", good}});
    ASSERT_TRUE(params.ok()) << good << ": " << params.error().message;
    ASSERT_TRUE(params->threshold.has_value()) << good;
    EXPECT_FLOAT_EQ(*params->threshold, std::stof(good)) << good;
  }
  // An empty field is no threshold.
  auto empty = from_fields({{"threshold", ""}});
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->threshold.has_value());
  for (const char* bad : {"1.01", "-1.01", "2", "abc", "0.5x", "nan", "inf", "-inf", "1e999"}) {
    expect_invalid(from_fields({{"threshold", bad}}), "threshold", bad);
  }
}

TEST(SearchParamsFromFieldsTest, Prices) {
  auto params = from_fields({{"min_price", "0"}, {"max_price", "0"}});
  ASSERT_TRUE(params.ok()) << params.error().message;
  EXPECT_EQ(params->filter.min_price_cents, 0);
  EXPECT_EQ(params->filter.max_price_cents, 0);

  params = from_fields({{"min_price", "19.99"}});
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->filter.min_price_cents, 1999);
  EXPECT_FALSE(params->filter.max_price_cents.has_value());

  params = from_fields({{"max_price", "1,5"}});
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->filter.max_price_cents, 150);

  params = from_fields({{"max_price", "1 299,50"}});
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->filter.max_price_cents, 129950);

  // Empty fields are no filter.
  params = from_fields({{"min_price", ""}, {"max_price", ""}});
  ASSERT_TRUE(params.ok());
  EXPECT_TRUE(params->filter.empty());

  // min == max is a range of one price.
  ASSERT_TRUE(from_fields({{"min_price", "5"}, {"max_price", "5.00"}}).ok());

  for (const char* bad : {"-1", "-0.01", "abc", "1.999", "1.2.3", "$5", "99999999999"}) {
    expect_invalid(from_fields({{"min_price", bad}}), "min_price", bad);
    expect_invalid(from_fields({{"max_price", bad}}), "max_price", bad);
  }
  expect_invalid(from_fields({{"min_price", "10"}, {"max_price", "9.99"}}), "min_price", "min>max");
}

TEST(SearchParamsFromFieldsTest, Category) {
  auto params = from_fields({{"category", "Shoes & Boots"}});
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->filter.category, "Shoes & Boots");
}

// ---------------------------------------------------------------------------------------------
// search_params_from_json

Result<search::SearchParams> from_json(const json& body, bool allow_query = true) {
  return search_params_from_json(body, allow_query);
}

TEST(SearchParamsFromJsonTest, Defaults) {
  auto params = from_json(json::object());
  ASSERT_TRUE(params.ok()) << params.error().message;
  EXPECT_EQ(params->top_k, 20);
  EXPECT_EQ(params->offset, 0);
  EXPECT_FALSE(params->threshold.has_value());
  EXPECT_TRUE(params->filter.empty());

  // Nulls are the defaults too.
  params = from_json({{"query", "x"},
                      {"top_k", nullptr},
                      {"offset", nullptr},
                      {"threshold", nullptr},
                      {"filters", nullptr}});
  ASSERT_TRUE(params.ok()) << params.error().message;
  EXPECT_EQ(params->top_k, 20);
  EXPECT_EQ(params->offset, 0);
  EXPECT_FALSE(params->threshold.has_value());

  params = from_json({{"filters", {{"category", nullptr}, {"min_price", nullptr}}}});
  ASSERT_TRUE(params.ok()) << params.error().message;
  EXPECT_TRUE(params->filter.empty());
}

TEST(SearchParamsFromJsonTest, TheDocumentedExample) {
  auto body = json::parse(R"({"query": "red leather handbag", "top_k": 20, "threshold": null,
      "offset": 0, "filters": {"category": "bags", "min_price": 0, "max_price": 100}})");
  auto params = from_json(body);
  ASSERT_TRUE(params.ok()) << params.error().message;
  EXPECT_EQ(params->top_k, 20);
  EXPECT_EQ(params->filter.category, "bags");
  EXPECT_EQ(params->filter.min_price_cents, 0);
  EXPECT_EQ(params->filter.max_price_cents, 10000);
}

TEST(SearchParamsFromJsonTest, QueryOnlyWhenAllowed) {
  EXPECT_TRUE(from_json({{"query", "x"}}, true).ok());
  // by-product bodies have no query.
  expect_invalid(from_json({{"query", "x"}}, false), "query", "query in by-product");
}

TEST(SearchParamsFromJsonTest, UnknownKeysAreRefused) {
  expect_invalid(from_json({{"topk", 5}}), "topk", "topk");
  expect_invalid(from_json({{"query", "x"}, {"limit", 5}}), "limit", "limit");
  expect_invalid(from_json({{"filters", {{"colour", "red"}}}}), "colour", "filters.colour");
  // Filter names belong inside "filters".
  expect_invalid(from_json({{"category", "bags"}}), "category", "category at top level");
  expect_invalid(from_json({{"min_price", 1}}), "min_price", "min_price at top level");
}

TEST(SearchParamsFromJsonTest, TopKRangeAndTypes) {
  EXPECT_EQ(from_json({{"top_k", 1}})->top_k, 1);
  EXPECT_EQ(from_json({{"top_k", 1000}})->top_k, 1000);
  EXPECT_EQ(from_json({{"top_k", 5.0}})->top_k, 5);  // an integral float is an integer
  for (const json& bad : {json(0), json(1001), json(-1), json(5.5), json("5"), json(true),
                          json::array({5}), json(1e20)}) {
    expect_invalid(from_json({{"top_k", bad}}), "top_k", bad.dump());
  }
}

TEST(SearchParamsFromJsonTest, OffsetRangeAndTypes) {
  EXPECT_EQ(from_json({{"offset", 0}})->offset, 0);
  EXPECT_EQ(from_json({{"offset", 9990}, {"top_k", 10}})->offset, 9990);
  for (const json& bad : {json(-1), json(10001), json(1.5), json("3")}) {
    expect_invalid(from_json({{"offset", bad}}), "offset", bad.dump());
  }
  expect_invalid(from_json({{"offset", 9991}, {"top_k", 10}}), "offset", "9991+10");
  expect_invalid(from_json({{"offset", 10000}, {"top_k", 1}}), "offset", "10000+1");
  expect_invalid(from_json({{"offset", 9000}, {"top_k", 1001}}), "top_k", "top_k 1001");
}

TEST(SearchParamsFromJsonTest, ThresholdRangeAndTypes) {
  for (double good : {-1.0, 1.0, 0.0, 0.3, -0.5}) {
    auto params = from_json({{"threshold", good}});
    ASSERT_TRUE(params.ok()) << good << ": " << params.error().message;
    ASSERT_TRUE(params->threshold.has_value());
    EXPECT_FLOAT_EQ(*params->threshold, static_cast<float>(good));
  }
  EXPECT_FLOAT_EQ(*from_json({{"threshold", 1}})->threshold, 1.0f);  // an integer is a number
  for (const json& bad : {json(1.01), json(-1.01), json(2), json(1e300), json("0.5"), json(true)}) {
    expect_invalid(from_json({{"threshold", bad}}), "threshold", bad.dump());
  }
}

TEST(SearchParamsFromJsonTest, FiltersCategory) {
  auto params = from_json({{"filters", {{"category", "bags"}}}});
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->filter.category, "bags");
  expect_invalid(from_json({{"filters", {{"category", 5}}}}), "filters.category", "number");
  expect_invalid(from_json({{"filters", {{"category", {"a"}}}}}), "filters.category", "array");
  expect_invalid(from_json({{"filters", "bags"}}), "filters", "filters a string");
  expect_invalid(from_json({{"filters", json::array()}}), "filters", "filters an array");
}

TEST(SearchParamsFromJsonTest, PricesAsNumbersAndStrings) {
  auto params = from_json({{"filters", {{"min_price", 19.99}, {"max_price", "19.99"}}}});
  ASSERT_TRUE(params.ok()) << params.error().message;
  EXPECT_EQ(params->filter.min_price_cents, 1999);
  EXPECT_EQ(params->filter.max_price_cents, 1999);

  params = from_json({{"filters", {{"min_price", "1,50"}, {"max_price", 2}}}});
  ASSERT_TRUE(params.ok()) << params.error().message;
  EXPECT_EQ(params->filter.min_price_cents, 150);
  EXPECT_EQ(params->filter.max_price_cents, 200);

  params = from_json({{"filters", {{"min_price", 0}, {"max_price", 99999999.99}}}});
  ASSERT_TRUE(params.ok()) << params.error().message;
  EXPECT_EQ(params->filter.min_price_cents, 0);
  EXPECT_EQ(params->filter.max_price_cents, 9999999999);

  // A number rounds to whole cents.
  params = from_json({{"filters", {{"min_price", 0.1 + 0.2}}}});
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->filter.min_price_cents, 30);

  // An empty string is no filter.
  params = from_json({{"filters", {{"max_price", ""}}}});
  ASSERT_TRUE(params.ok());
  EXPECT_FALSE(params->filter.max_price_cents.has_value());

  for (const char* name : {"min_price", "max_price"}) {
    for (const json& bad : {json(-1), json(-0.01), json("-1"), json("abc"), json("1.999"),
                            json(true), json::object(), json(1e8), json(1e300)}) {
      expect_invalid(from_json({{"filters", {{name, bad}}}}), name, bad.dump());
    }
  }
  expect_invalid(from_json({{"filters", {{"min_price", 10}, {"max_price", "9.99"}}}}), "min_price",
                 "min > max");
  ASSERT_TRUE(from_json({{"filters", {{"min_price", 10}, {"max_price", "10.00"}}}}).ok());
}

TEST(SearchParamsFromJsonTest, NumericPriceRoundingIntoTheLimitIsRefused) {
  expect_invalid(from_json({{"filters", {{"max_price", 99999999.995}}}}), "max_price",
                 "99999999.995");
  catalog::Product product;
  Status status =
      apply_product_json({{"external_id", "x"}, {"title", "t"}, {"price", 99999999.999}},
                         ProductInputMode::kCreate, product);
  EXPECT_FALSE(status.ok()) << product.price_cents.value_or(0);
}

// ---------------------------------------------------------------------------------------------
// int_field

TEST(IntFieldTest, FallbackRangeAndErrors) {
  auto field = lookup({{"limit", "50"},
                       {"low", "0"},
                       {"high", "1000"},
                       {"bad", "1x"},
                       {"neg", "-5"},
                       {"empty", ""}});
  EXPECT_EQ(*int_field(field, "absent", 20, 1, 1000), 20);
  EXPECT_EQ(*int_field(field, "limit", 20, 1, 1000), 50);
  EXPECT_EQ(*int_field(field, "high", 20, 1, 1000), 1000);  // inclusive
  EXPECT_EQ(*int_field(field, "low", 20, 0, 10), 0);        // inclusive
  EXPECT_EQ(*int_field(field, "neg", 0, -10, 10), -5);

  auto below = int_field(field, "low", 20, 1, 1000);
  ASSERT_FALSE(below.ok());
  EXPECT_EQ(below.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(below.error().message.find("low"), std::string::npos);
  EXPECT_NE(below.error().message.find("between 1 and 1000"), std::string::npos)
      << below.error().message;

  auto above = int_field(field, "high", 20, 1, 999);
  ASSERT_FALSE(above.ok());
  EXPECT_EQ(above.error().code, ErrorCode::kInvalidArgument);

  for (const char* name : {"bad", "empty"}) {
    auto result = int_field(field, name, 20, 1, 1000);
    ASSERT_FALSE(result.ok()) << name;
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument) << name;
    EXPECT_NE(result.error().message.find(name), std::string::npos) << result.error().message;
  }
}

// ---------------------------------------------------------------------------------------------
// apply_product_json

catalog::Product stored_product() {
  catalog::Product p;
  p.id = 7;
  p.external_id = "sku-1";
  p.title = "Old title";
  p.description = "Old description";
  p.category = "bags";
  p.price_cents = 4999;
  p.currency = "EUR";
  p.image_url = "/images/sku-1/image_1.jpg";
  p.metadata = {{"colour", "red"}};
  p.created_at = "2026-01-01T00:00:00Z";
  p.updated_at = "2026-01-02T00:00:00Z";
  return p;
}

// What GET /api/v1/products/{id} answers for `p` (docs/API.md: PRODUCT with images).
json get_answer(const catalog::Product& p) {
  json price = p.price_cents ? json(static_cast<double>(*p.price_cents) / 100) : json(nullptr);
  auto text_or_null = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  return {{"id", p.id},
          {"external_id", p.external_id},
          {"title", p.title},
          {"description", text_or_null(p.description)},
          {"category", text_or_null(p.category)},
          {"price", price},
          {"currency", text_or_null(p.currency)},
          {"image_url", p.image_url},
          {"product_metadata", p.metadata},
          {"created_at", p.created_at},
          {"updated_at", p.updated_at},
          {"images", json::array({{{"id", 11},
                                   {"position", 1},
                                   {"url", p.image_url},
                                   {"sha256", std::string(64, 'a')},
                                   {"size_bytes", 1234},
                                   {"width", 640},
                                   {"height", 480},
                                   {"format", "jpeg"},
                                   {"source", "/data/x.jpg"},
                                   {"created_at", p.created_at}}})}};
}

void expect_same(const catalog::Product& got, const catalog::Product& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.external_id, want.external_id);
  EXPECT_EQ(got.title, want.title);
  EXPECT_EQ(got.description, want.description);
  EXPECT_EQ(got.category, want.category);
  EXPECT_EQ(got.price_cents, want.price_cents);
  EXPECT_EQ(got.currency, want.currency);
  EXPECT_EQ(got.image_url, want.image_url);
  EXPECT_EQ(got.metadata, want.metadata);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.updated_at, want.updated_at);
}

void expect_refused(const json& body, ProductInputMode mode, const std::string& mentions) {
  catalog::Product product = stored_product();
  Status status = apply_product_json(body, mode, product);
  ASSERT_FALSE(status.ok()) << body.dump();
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument) << body.dump();
  EXPECT_NE(status.error().message.find(mentions), std::string::npos)
      << body.dump() << ": " << status.error().message;
}

TEST(ApplyProductJsonTest, CreateNeedsExternalIdAndTitle) {
  catalog::Product product;
  expect_refused(json::object(), ProductInputMode::kCreate, "external_id");
  expect_refused({{"title", "T"}}, ProductInputMode::kCreate, "external_id");
  expect_refused({{"external_id", "sku-9"}}, ProductInputMode::kCreate, "title");
  expect_refused({{"external_id", nullptr}, {"title", "T"}}, ProductInputMode::kCreate,
                 "external_id");
  expect_refused({{"external_id", 5}, {"title", "T"}}, ProductInputMode::kCreate, "external_id");
  expect_refused({{"external_id", "sku-9"}, {"title", nullptr}}, ProductInputMode::kCreate,
                 "title");

  ASSERT_TRUE(apply_product_json({{"external_id", "sku-9"}, {"title", "T"}},
                                 ProductInputMode::kCreate, product)
                  .ok());
  EXPECT_EQ(product.external_id, "sku-9");
  EXPECT_EQ(product.title, "T");
  EXPECT_TRUE(product.description.empty());
  EXPECT_TRUE(product.category.empty());
  EXPECT_TRUE(product.currency.empty());
  EXPECT_FALSE(product.price_cents.has_value());
  EXPECT_EQ(product.metadata, json::object());
}

TEST(ApplyProductJsonTest, CreateWithEveryField) {
  catalog::Product product;
  auto body = json::parse(R"({"external_id": "sku-9", "title": "Red bag",
      "description": "Leather", "category": "bags", "price": "19.99", "currency": "USD",
      "metadata": {"colour": "red", "sizes": [1, 2]}})");
  Status status = apply_product_json(body, ProductInputMode::kCreate, product);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(product.external_id, "sku-9");
  EXPECT_EQ(product.title, "Red bag");
  EXPECT_EQ(product.description, "Leather");
  EXPECT_EQ(product.category, "bags");
  EXPECT_EQ(product.price_cents, 1999);
  EXPECT_EQ(product.currency, "USD");
  EXPECT_EQ(product.metadata, body["metadata"]);
}

TEST(ApplyProductJsonTest, PricesAsNumbersAndStrings) {
  const std::vector<std::pair<json, std::int64_t>> cases = {
      {json(19.99), 1999}, {json("19.99"), 1999}, {json("1,50"), 150},  {json(0), 0},
      {json("0"), 0},      {json(12), 1200},      {json(" 7.5 "), 750}, {json(0.01), 1},
  };
  for (const auto& [price, cents] : cases) {
    catalog::Product product;
    Status status = apply_product_json({{"external_id", "x"}, {"title", "t"}, {"price", price}},
                                       ProductInputMode::kCreate, product);
    ASSERT_TRUE(status.ok()) << price.dump() << ": " << status.error().message;
    EXPECT_EQ(product.price_cents, cents) << price.dump();
  }
  for (const json& bad : {json(-1), json("-1"), json("abc"), json("1.234"), json(true),
                          json::array({1}), json(1e8)}) {
    expect_refused({{"external_id", "x"}, {"title", "t"}, {"price", bad}},
                   ProductInputMode::kCreate, "price");
  }
}

TEST(ApplyProductJsonTest, WrongTypesAreRefused) {
  for (auto mode :
       {ProductInputMode::kCreate, ProductInputMode::kReplace, ProductInputMode::kPatch}) {
    json base = {{"external_id", "sku-1"}, {"title", "t"}};
    for (const char* key : {"description", "category", "currency"}) {
      json body = base;
      body[key] = 5;
      expect_refused(body, mode, key);
    }
    for (const char* key : {"metadata", "product_metadata"}) {
      for (const json& bad : {json("x"), json::array(), json(1)}) {
        json body = base;
        body[key] = bad;
        expect_refused(body, mode, key);
      }
    }
    json title = base;
    title["title"] = json::array({"t"});
    expect_refused(title, mode, "title");
  }
}

TEST(ApplyProductJsonTest, UnknownFieldsAreRefused) {
  for (auto mode :
       {ProductInputMode::kCreate, ProductInputMode::kReplace, ProductInputMode::kPatch}) {
    expect_refused({{"external_id", "sku-1"}, {"title", "t"}, {"colour", "red"}}, mode,
                   "unknown field \"colour\"");
    // Nothing was applied: the refusal comes first.
    catalog::Product product = stored_product();
    Status status = apply_product_json({{"title", "New"}, {"Title", "typo"}}, mode, product);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(product.title, "Old title");
  }
}

TEST(ApplyProductJsonTest, ReplaceClearsAbsentOptionalFields) {
  catalog::Product product = stored_product();
  Status status = apply_product_json({{"title", "New title"}}, ProductInputMode::kReplace, product);
  ASSERT_TRUE(status.ok()) << status.error().message;
  catalog::Product want = stored_product();
  want.title = "New title";
  want.description.clear();
  want.category.clear();
  want.currency.clear();
  want.price_cents.reset();
  want.metadata = json::object();
  expect_same(product, want);
}

TEST(ApplyProductJsonTest, ReplaceSetsEveryFieldGiven) {
  catalog::Product product = stored_product();
  Status status = apply_product_json({{"external_id", "sku-1"},
                                      {"title", "T2"},
                                      {"description", "D2"},
                                      {"category", "shoes"},
                                      {"price", 5},
                                      {"currency", "GBP"},
                                      {"metadata", {{"k", 1}}}},
                                     ProductInputMode::kReplace, product);
  ASSERT_TRUE(status.ok()) << status.error().message;
  catalog::Product want = stored_product();
  want.title = "T2";
  want.description = "D2";
  want.category = "shoes";
  want.price_cents = 500;
  want.currency = "GBP";
  want.metadata = {{"k", 1}};
  expect_same(product, want);
}

TEST(ApplyProductJsonTest, ReplaceNeedsTitleAndKeepsExternalId) {
  expect_refused(json::object(), ProductInputMode::kReplace, "title");
  expect_refused({{"external_id", "sku-1"}}, ProductInputMode::kReplace, "title");
  expect_refused({{"external_id", "sku-2"}, {"title", "t"}}, ProductInputMode::kReplace,
                 "external_id");
  expect_refused({{"external_id", nullptr}, {"title", "t"}}, ProductInputMode::kReplace,
                 "external_id");
  catalog::Product product = stored_product();
  ASSERT_TRUE(apply_product_json({{"external_id", "sku-1"}, {"title", "t"}},
                                 ProductInputMode::kReplace, product)
                  .ok());
  EXPECT_EQ(product.external_id, "sku-1");
}

TEST(ApplyProductJsonTest, GetAnswerCanBeSentBack) {
  const catalog::Product stored = stored_product();
  for (auto mode : {ProductInputMode::kReplace, ProductInputMode::kPatch}) {
    catalog::Product product = stored;
    Status status = apply_product_json(get_answer(stored), mode, product);
    ASSERT_TRUE(status.ok()) << status.error().message;
    expect_same(product, stored);
  }
  // Read-only fields are ignored, whatever they say.
  json edited = get_answer(stored);
  edited["id"] = 999;
  edited["image_url"] = "/images/elsewhere.jpg";
  edited["created_at"] = "1999-01-01T00:00:00Z";
  edited["updated_at"] = "bogus";
  edited["images"] = json::array();
  edited["title"] = "Edited";
  catalog::Product product = stored;
  Status status = apply_product_json(edited, ProductInputMode::kReplace, product);
  ASSERT_TRUE(status.ok()) << status.error().message;
  catalog::Product want = stored;
  want.title = "Edited";
  expect_same(product, want);

  // A GET answer of a product with no optional fields (nulls) clears them.
  catalog::Product bare = stored;
  bare.description.clear();
  bare.category.clear();
  bare.currency.clear();
  bare.price_cents.reset();
  bare.metadata = json::object();
  product = stored;
  status = apply_product_json(get_answer(bare), ProductInputMode::kReplace, product);
  ASSERT_TRUE(status.ok()) << status.error().message;
  expect_same(product, bare);
}

TEST(ApplyProductJsonTest, PatchChangesOnlyTheFieldsGiven) {
  const catalog::Product stored = stored_product();
  catalog::Product product = stored;
  ASSERT_TRUE(apply_product_json(json::object(), ProductInputMode::kPatch, product).ok());
  expect_same(product, stored);

  product = stored;
  ASSERT_TRUE(apply_product_json({{"title", "New"}}, ProductInputMode::kPatch, product).ok());
  catalog::Product want = stored;
  want.title = "New";
  expect_same(product, want);

  product = stored;
  ASSERT_TRUE(apply_product_json({{"price", "2,50"}, {"category", "shoes"}},
                                 ProductInputMode::kPatch, product)
                  .ok());
  want = stored;
  want.price_cents = 250;
  want.category = "shoes";
  expect_same(product, want);

  // The same external_id is accepted; another is refused.
  product = stored;
  ASSERT_TRUE(
      apply_product_json({{"external_id", "sku-1"}}, ProductInputMode::kPatch, product).ok());
  expect_same(product, stored);
  expect_refused({{"external_id", "sku-2"}}, ProductInputMode::kPatch, "external_id");
  // The title cannot be cleared.
  expect_refused({{"title", nullptr}}, ProductInputMode::kPatch, "title");
}

TEST(ApplyProductJsonTest, PatchNullClearsOptionalFields) {
  const catalog::Product stored = stored_product();
  catalog::Product product = stored;
  Status status = apply_product_json(
      {{"description", nullptr}, {"category", nullptr}, {"currency", nullptr}, {"price", nullptr}},
      ProductInputMode::kPatch, product);
  ASSERT_TRUE(status.ok()) << status.error().message;
  catalog::Product want = stored;
  want.description.clear();
  want.category.clear();
  want.currency.clear();
  want.price_cents.reset();
  expect_same(product, want);

  product = stored;
  ASSERT_TRUE(apply_product_json({{"metadata", nullptr}}, ProductInputMode::kPatch, product).ok());
  EXPECT_EQ(product.metadata, json::object());
  product = stored;
  ASSERT_TRUE(
      apply_product_json({{"product_metadata", nullptr}}, ProductInputMode::kPatch, product).ok());
  EXPECT_EQ(product.metadata, json::object());
}

TEST(ApplyProductJsonTest, MetadataAndProductMetadataAreTheSameField) {
  const catalog::Product stored = stored_product();
  for (const char* key : {"metadata", "product_metadata"}) {
    for (auto mode : {ProductInputMode::kReplace, ProductInputMode::kPatch}) {
      catalog::Product product = stored;
      json body = {{"title", "t"}, {key, {{"size", "L"}}}};
      Status status = apply_product_json(body, mode, product);
      ASSERT_TRUE(status.ok()) << key << ": " << status.error().message;
      // Replaced as a whole, not merged.
      EXPECT_EQ(product.metadata, json({{"size", "L"}})) << key;
    }
    catalog::Product created;
    json body = {{"external_id", "x"}, {"title", "t"}, {key, {{"a", 1}}}};
    ASSERT_TRUE(apply_product_json(body, ProductInputMode::kCreate, created).ok()) << key;
    EXPECT_EQ(created.metadata, json({{"a", 1}})) << key;
  }
  // A patch without either keeps the metadata.
  catalog::Product product = stored;
  ASSERT_TRUE(apply_product_json({{"title", "t"}}, ProductInputMode::kPatch, product).ok());
  EXPECT_EQ(product.metadata, stored.metadata);
}

}  // namespace
}  // namespace lookalike::api
