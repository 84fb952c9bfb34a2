#include "index/qdrant/qdrant_filter.h"

namespace lookalike::index {

nlohmann::json qdrant_filter(const SearchFilter& filter) {
  if (filter.empty()) return nullptr;
  nlohmann::json must = nlohmann::json::array();
  if (!filter.category.empty()) {
    must.push_back({{"key", kQdrantCategoryField}, {"match", {{"value", filter.category}}}});
  }
  if (filter.min_price_cents || filter.max_price_cents) {
    nlohmann::json range = nlohmann::json::object();
    if (filter.min_price_cents) range["gte"] = *filter.min_price_cents;
    if (filter.max_price_cents) range["lte"] = *filter.max_price_cents;
    must.push_back({{"key", kQdrantPriceCentsField}, {"range", range}});
  }
  return {{"must", must}};
}

}  // namespace lookalike::index
