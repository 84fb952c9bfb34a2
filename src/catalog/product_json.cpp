#include "catalog/product_json.h"

namespace lookalike::catalog {

namespace {

nlohmann::ordered_json text_or_null(const std::string& text) {
  return text.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(text);
}

}  // namespace

double cents_to_decimal(std::int64_t cents) { return static_cast<double>(cents) / 100.0; }

nlohmann::ordered_json product_to_json(const Product& product) {
  nlohmann::ordered_json json;
  json["id"] = product.id;
  json["external_id"] = product.external_id;
  json["title"] = product.title;
  json["description"] = text_or_null(product.description);
  json["category"] = text_or_null(product.category);
  json["price"] = product.price_cents
                      ? nlohmann::ordered_json(cents_to_decimal(*product.price_cents))
                      : nlohmann::ordered_json();
  json["currency"] = text_or_null(product.currency);
  json["image_url"] = text_or_null(product.image_url);  // null until it has an image
  json["product_metadata"] = product.metadata;
  json["created_at"] = product.created_at;
  json["updated_at"] = product.updated_at;
  return json;
}

nlohmann::ordered_json image_to_json(const ProductImage& image) {
  nlohmann::ordered_json json;
  json["id"] = image.id;
  json["product_id"] = image.product_id;
  json["position"] = image.position;
  json["url"] = image.url;
  json["path"] = image.path;
  json["source"] = image.source;
  json["sha256"] = image.sha256;
  json["size_bytes"] = image.size_bytes;
  json["width"] = image.width;
  json["height"] = image.height;
  json["format"] = image.format;
  json["etag"] = text_or_null(image.etag);
  json["created_at"] = image.created_at;
  return json;
}

}  // namespace lookalike::catalog
