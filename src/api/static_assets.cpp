#include "api/static_assets.h"

#include <vector>

#include "lookalike_static_assets.h"

namespace lookalike::api {

namespace {

const std::vector<StaticAsset>& all_assets() {
  static const std::vector<StaticAsset> assets = [] {
    std::vector<StaticAsset> list;
    for (const auto& file : embedded::lookalike_static_assets()) {
      list.push_back({file.name, file.content_type, file.data, file.etag});
    }
    return list;
  }();
  return assets;
}

}  // namespace

const StaticAsset* find_static_asset(std::string_view url_path) {
  if (url_path == "/index.html") url_path = "/";
  if (url_path.size() > 1 && url_path.back() == '/') url_path.remove_suffix(1);
  for (const auto& asset : all_assets()) {
    if (asset.path == url_path) return &asset;
  }
  return nullptr;
}

std::span<const StaticAsset> static_assets() { return all_assets(); }

}  // namespace lookalike::api
