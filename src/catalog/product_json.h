// The JSON shape of catalogue records in every output (CLI and HTTP API): a product as the seed's
// `products` row, with prices as decimal numbers and empty optional fields as null.
#pragma once

#include <nlohmann/json.hpp>

#include "catalog/product.h"

namespace lookalike::catalog {

nlohmann::ordered_json product_to_json(const Product& product);
nlohmann::ordered_json image_to_json(const ProductImage& image);
// 1999 → 19.99 (a JSON number; exact to the cent when printed).
double cents_to_decimal(std::int64_t cents);

}  // namespace lookalike::catalog
