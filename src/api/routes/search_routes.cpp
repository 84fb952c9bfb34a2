// POST /api/v1/search/by-text, /by-image, /by-product/{id}.
#include <chrono>

#include "api/request_parsing.h"
#include "api/routes/routes.h"
#include "search/search_response_json.h"

namespace lookalike::api {

namespace {

using Clock = std::chrono::steady_clock;

void answer(RouteContext& ctx, Result<search::SearchResponse> response, Clock::time_point start,
            HttpError (*error_for)(const Error&) = http_error_for) {
  if (!response) return send_error(ctx.response, error_for(response.error()));
  response->took_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  send_json(ctx.response, 200,
            search::search_response_to_json(*response, public_url_prefix(ctx.config)));
}

bool is_image_content_type(const std::string& type) {
  return type.starts_with("image/") || type.starts_with("application/octet-stream");
}

void by_text(RouteContext& ctx) {
  auto start = Clock::now();
  auto body = parse_json_object(ctx.request.body);
  if (!body) return send_error(ctx.response, request_http_error_for(body.error()));
  if (!body->contains("query") || !(*body)["query"].is_string()) {
    return send_error(ctx.response,
                      make_http_error(400, "invalid_argument", "query: required, a string"));
  }
  auto query = (*body)["query"].get<std::string>();
  if (query.find_first_not_of(" \t\r\n") == std::string::npos) {
    return send_error(ctx.response,
                      make_http_error(400, "invalid_argument", "query: must not be empty"));
  }
  if (query.size() > 2000) {
    return send_error(ctx.response,
                      make_http_error(400, "invalid_argument", "query: at most 2000 bytes"));
  }
  auto params = search_params_from_json(*body, true);
  if (!params) return send_error(ctx.response, request_http_error_for(params.error()));
  auto vector = ctx.services->embedder->embed_text(query);
  if (!vector) return send_error(ctx.response, http_error_for(vector.error()));
  answer(ctx, ctx.services->searcher->by_vector(*vector, *params), start);
}

void by_image(RouteContext& ctx) {
  auto start = Clock::now();
  const auto& request = ctx.request;
  std::string_view bytes;
  FieldLookup field;
  if (request.is_multipart_form_data()) {
    if (!request.has_file("file")) {
      return send_error(ctx.response, make_http_error(400, "invalid_argument",
                                                      "file: required (a multipart field)"));
    }
    const auto& file = request.files.find("file")->second;
    bytes = file.content;
    // Form fields first; query parameters work too (curl -F file=@x.jpg '...?top_k=5').
    field = [&request](const std::string& name) -> std::optional<std::string> {
      if (request.has_file(name)) return request.get_file_value(name).content;
      if (request.has_param(name)) return request.get_param_value(name);
      return std::nullopt;
    };
  } else {
    auto type = request.get_header_value("Content-Type");
    if (!is_image_content_type(type)) {
      return send_error(ctx.response,
                        make_http_error(415, "unsupported_media_type",
                                        "send multipart/form-data with a `file` field, or the "
                                        "image itself as image/* or application/octet-stream"));
    }
    bytes = request.body;
    field = [&request](const std::string& name) -> std::optional<std::string> {
      if (!request.has_param(name)) return std::nullopt;
      return request.get_param_value(name);
    };
  }
  if (bytes.empty()) {
    return send_error(ctx.response, make_http_error(400, "invalid_argument", "file: empty"));
  }
  auto params = search_params_from_fields(field);
  if (!params) return send_error(ctx.response, request_http_error_for(params.error()));
  auto vector = ctx.services->embedder->embed_image(
      {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  if (!vector) return send_error(ctx.response, image_http_error_for(vector.error()));
  answer(ctx, ctx.services->searcher->by_vector(*vector, *params), start);
}

void by_product(RouteContext& ctx) {
  auto start = Clock::now();
  Result<search::SearchParams> params = search::SearchParams{};
  if (!ctx.request.body.empty()) {
    auto body = parse_json_object(ctx.request.body);
    if (!body) return send_error(ctx.response, request_http_error_for(body.error()));
    params = search_params_from_json(*body, false);
  } else {
    params = search_params_from_fields([&](const std::string& name) -> std::optional<std::string> {
      if (!ctx.request.has_param(name)) return std::nullopt;
      return ctx.request.get_param_value(name);
    });
  }
  if (!params) return send_error(ctx.response, request_http_error_for(params.error()));
  auto product = ctx.products->resolve(ctx.params[0]);
  if (!product) return send_error(ctx.response, http_error_for(product.error()));
  answer(ctx, ctx.services->searcher->by_product(product->id, *params), start);
}

}  // namespace

void add_search_routes(Router& router) {
  router.add("POST", "/api/v1/search/by-text", Access::kSearch, by_text);
  router.add("POST", "/api/v1/search/by-image", Access::kSearch, by_image);
  router.add("POST", "/api/v1/search/by-product/{id}", Access::kSearch, by_product);
}

}  // namespace lookalike::api
