// /api/v1/products: list, create, read, replace, patch, delete; images added and removed.
#include <charconv>

#include "api/request_parsing.h"
#include "api/routes/routes.h"
#include "catalog/product_json.h"

namespace lookalike::api {

namespace {

FieldLookup query_fields(const httplib::Request& request) {
  return [&request](const std::string& name) -> std::optional<std::string> {
    if (!request.has_param(name)) return std::nullopt;
    return request.get_param_value(name);
  };
}

void list_products(RouteContext& ctx) {
  auto fields = query_fields(ctx.request);
  auto offset = int_field(fields, "offset", 0, 0, std::int64_t{1} << 40);
  if (!offset) return send_error(ctx.response, request_http_error_for(offset.error()));
  auto limit = int_field(fields, "limit", 20, 1, 1000);
  if (!limit) return send_error(ctx.response, request_http_error_for(limit.error()));
  auto page =
      ctx.services->catalog->list_products(*offset, *limit, fields("category").value_or(""));
  if (!page) return send_error(ctx.response, http_error_for(page.error()));
  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  for (const auto& product : page->items) items.push_back(catalog::product_to_json(product));
  send_json(ctx.response, 200, {{"items", std::move(items)}, {"total", page->total}});
}

void send_product(RouteContext& ctx, int status, const catalog::Product& product) {
  auto images = ctx.services->catalog->list_images(product.id);
  if (!images) return send_error(ctx.response, http_error_for(images.error()));
  if (status == 201) {
    ctx.response.set_header("Location", "/api/v1/products/" + std::to_string(product.id));
  }
  send_json(ctx.response, status, product_with_images_json(product, *images));
}

void create_product(RouteContext& ctx) {
  auto body = parse_json_object(ctx.request.body);
  if (!body) return send_error(ctx.response, request_http_error_for(body.error()));
  catalog::Product product;
  if (auto status = apply_product_json(*body, ProductInputMode::kCreate, product); !status) {
    return send_error(ctx.response, request_http_error_for(status.error()));
  }
  auto created = ctx.products->create(product);
  if (!created) return send_error(ctx.response, http_error_for(created.error()));
  send_product(ctx, 201, *created);
}

void get_product(RouteContext& ctx) {
  auto product = ctx.products->resolve(ctx.params[0]);
  if (!product) return send_error(ctx.response, http_error_for(product.error()));
  send_product(ctx, 200, *product);
}

void edit_product(RouteContext& ctx, ProductInputMode mode) {
  auto body = parse_json_object(ctx.request.body);
  if (!body) return send_error(ctx.response, request_http_error_for(body.error()));
  auto product = ctx.products->resolve(ctx.params[0]);
  if (!product) return send_error(ctx.response, http_error_for(product.error()));
  if (auto status = apply_product_json(*body, mode, *product); !status) {
    return send_error(ctx.response, request_http_error_for(status.error()));
  }
  auto updated = ctx.products->update(*product);
  if (!updated) return send_error(ctx.response, http_error_for(updated.error()));
  send_product(ctx, 200, *updated);
}

void delete_product(RouteContext& ctx) {
  auto product = ctx.products->resolve(ctx.params[0]);
  if (!product) return send_error(ctx.response, http_error_for(product.error()));
  if (auto status = ctx.products->remove(*product); !status) {
    return send_error(ctx.response, http_error_for(status.error()));
  }
  send_no_content(ctx.response);
}

void add_image(RouteContext& ctx) {
  if (!ctx.request.is_multipart_form_data() || !ctx.request.has_file("file")) {
    return send_error(ctx.response,
                      make_http_error(415, "unsupported_media_type",
                                      "send multipart/form-data with the image in a `file` field"));
  }
  const auto& content = ctx.request.get_file_value("file").content;
  if (content.empty()) {
    return send_error(ctx.response, make_http_error(400, "invalid_argument", "file: empty"));
  }
  auto product = ctx.products->resolve(ctx.params[0]);
  if (!product) return send_error(ctx.response, http_error_for(product.error()));
  auto image = ctx.products->add_image(
      *product, {reinterpret_cast<const std::uint8_t*>(content.data()), content.size()});
  if (!image) return send_error(ctx.response, image_http_error_for(image.error()));
  ctx.response.set_header("Location", "/api/v1/products/" + std::to_string(product->id) +
                                          "/images/" + std::to_string(image->position));
  send_json(ctx.response, 201, catalog::image_to_json(*image));
}

void delete_image(RouteContext& ctx) {
  int position = 0;
  const auto& text = ctx.params[1];
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), position);
  if (ec != std::errc() || end != text.data() + text.size() || position < 1) {
    return send_error(ctx.response, make_http_error(400, "invalid_argument",
                                                    "position: must be a positive integer"));
  }
  auto product = ctx.products->resolve(ctx.params[0]);
  if (!product) return send_error(ctx.response, http_error_for(product.error()));
  if (auto status = ctx.products->remove_image(*product, position); !status) {
    return send_error(ctx.response, http_error_for(status.error()));
  }
  send_no_content(ctx.response);
}

}  // namespace

void add_product_routes(Router& router) {
  router.add("GET", "/api/v1/products", Access::kSearch, list_products);
  router.add("POST", "/api/v1/products", Access::kAdmin, create_product);
  router.add("GET", "/api/v1/products/{id}", Access::kSearch, get_product);
  router.add("PUT", "/api/v1/products/{id}", Access::kAdmin,
             [](RouteContext& ctx) { edit_product(ctx, ProductInputMode::kReplace); });
  router.add("PATCH", "/api/v1/products/{id}", Access::kAdmin,
             [](RouteContext& ctx) { edit_product(ctx, ProductInputMode::kPatch); });
  router.add("DELETE", "/api/v1/products/{id}", Access::kAdmin, delete_product);
  router.add("POST", "/api/v1/products/{id}/images", Access::kAdmin, add_image);
  router.add("DELETE", "/api/v1/products/{id}/images/{position}", Access::kAdmin, delete_image);
}

}  // namespace lookalike::api
