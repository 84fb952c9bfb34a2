#include "search/search_response_json.h"

#include "catalog/product_json.h"

namespace lookalike::search {

nlohmann::ordered_json search_response_to_json(const SearchResponse& response,
                                               const std::string& url_prefix) {
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  for (const auto& result : response.results) {
    nlohmann::ordered_json item;
    item["product"] = catalog::product_to_json(result.product);
    if (!url_prefix.empty() && item["product"]["image_url"].is_string()) {
      item["product"]["image_url"] = url_prefix + item["product"]["image_url"].get<std::string>();
    }
    item["score"] = result.score;
    item["image_url"] = url_prefix + result.image_url;
    results.push_back(std::move(item));
  }
  nlohmann::ordered_json json;
  json["results"] = std::move(results);
  json["total"] = response.results.size();
  json["took_ms"] = response.took_ms;
  return json;
}

}  // namespace lookalike::search
