// Our SearchFilter as a Qdrant filter: {"must": [{"key": "category", "match": {"value": …}},
// {"key": "price_cents", "range": {"gte": …, "lte": …}}]}. Prices are matched on the integer
// price_cents payload field (exact, unlike the decimal `price`); a point without a price has no
// price_cents and so never matches a price range. Pure functions, thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "index/vector_index.h"

namespace lookalike::index {

// Payload field names shared by the index and its filters.
inline constexpr char kQdrantCategoryField[] = "category";
inline constexpr char kQdrantPriceCentsField[] = "price_cents";
inline constexpr char kQdrantProductIdField[] = "product_id";

// The Qdrant filter for `filter`, or null when it filters nothing.
nlohmann::json qdrant_filter(const SearchFilter& filter);

}  // namespace lookalike::index
