// The JSON answer of every search (CLI and HTTP): {"results": [{"product", "score", "image_url"}],
// "total", "took_ms"}. `url_prefix` makes image URLs absolute ("https://shop.example"); empty keeps
// them root-relative ("/images/...").
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "search/product_searcher.h"

namespace lookalike::search {

nlohmann::ordered_json search_response_to_json(const SearchResponse& response,
                                               const std::string& url_prefix = "");

}  // namespace lookalike::search
