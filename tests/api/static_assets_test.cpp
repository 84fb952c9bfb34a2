// The files built into the binary (cmake/embed_files.cmake, api/static_assets.h): every path the
// server answers from memory is there, typed right, byte for byte the file in the source tree,
// and the page loads nothing from other hosts.
#include "api/static_assets.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "test_support.h"

namespace lookalike::api {
namespace {

namespace fs = std::filesystem;

// The checkout: this file is tests/api/static_assets_test.cpp (CMake compiles absolute paths).
fs::path source_root() { return fs::path(__FILE__).parent_path().parent_path().parent_path(); }

struct Expected {
  std::string file;  // relative to the checkout
  std::string content_type;
};

const std::map<std::string, Expected>& expected_assets() {
  static const std::map<std::string, Expected> assets = {
      {"/", {"web/ui/index.html", "text/html; charset=utf-8"}},
      {"/app.js", {"web/ui/app.js", "application/javascript"}},
      {"/style.css", {"web/ui/style.css", "text/css"}},
      {"/docs", {"web/ui/docs.html", "text/html; charset=utf-8"}},
      {"/docs/docs.js", {"web/ui/docs.js", "application/javascript"}},
      {"/docs/swagger-ui.css", {"web/node_modules/swagger-ui-dist/swagger-ui.css", "text/css"}},
      {"/docs/swagger-ui-bundle.js",
       {"web/node_modules/swagger-ui-dist/swagger-ui-bundle.js", "application/javascript"}},
      {"/docs/swagger-ui-standalone-preset.js",
       {"web/node_modules/swagger-ui-dist/swagger-ui-standalone-preset.js",
        "application/javascript"}},
      {"/docs/favicon-32x32.png",
       {"web/node_modules/swagger-ui-dist/favicon-32x32.png", "image/png"}},
      {"/openapi.json", {"src/api/openapi.json", "application/json"}},
  };
  return assets;
}

std::string asset_text(std::string_view path) {
  const StaticAsset* asset = find_static_asset(path);
  return asset != nullptr ? std::string(asset->data) : std::string();
}

TEST(StaticAssetsTest, EveryExpectedPathIsThereWithItsContentType) {
  for (const auto& [path, expected] : expected_assets()) {
    const StaticAsset* asset = find_static_asset(path);
    ASSERT_NE(asset, nullptr) << path;
    EXPECT_EQ(asset->path, path);
    EXPECT_EQ(asset->content_type, expected.content_type) << path;
    EXPECT_FALSE(asset->data.empty()) << path;
  }
  EXPECT_EQ(static_assets().size(), expected_assets().size());
  std::set<std::string_view> paths;
  for (const auto& asset : static_assets()) {
    EXPECT_TRUE(paths.insert(asset.path).second) << "twice: " << asset.path;
  }
}

TEST(StaticAssetsTest, DataIsTheFileOnDiskByteForByte) {
  for (const auto& [path, expected] : expected_assets()) {
    fs::path file = source_root() / expected.file;
    ASSERT_TRUE(fs::exists(file)) << file;
    const StaticAsset* asset = find_static_asset(path);
    ASSERT_NE(asset, nullptr) << path;
    std::string on_disk = testing::read_bytes(file);
    EXPECT_EQ(asset->data.size(), on_disk.size()) << path;
    EXPECT_TRUE(asset->data == on_disk) << path << " differs from " << file;
  }
}

TEST(StaticAssetsTest, EtagsAreQuotedContentHashes) {
  std::set<std::string_view> etags;
  const std::regex shape("^\"[0-9a-f]{16}\"$");
  for (const auto& asset : static_assets()) {
    EXPECT_TRUE(std::regex_match(std::string(asset.etag), shape))
        << asset.path << " " << asset.etag;
    etags.insert(asset.etag);
  }
  EXPECT_EQ(etags.size(), static_assets().size());  // every file differs, so every etag does
}

TEST(StaticAssetsTest, LookupIsExactApartFromTrailingSlashAndIndexHtml) {
  EXPECT_EQ(find_static_asset("/docs/"), find_static_asset("/docs"));
  EXPECT_EQ(find_static_asset("/index.html"), find_static_asset("/"));
  EXPECT_EQ(find_static_asset(""), nullptr);
  EXPECT_EQ(find_static_asset("/nope"), nullptr);
  EXPECT_EQ(find_static_asset("/APP.JS"), nullptr);
  EXPECT_EQ(find_static_asset("/docs/../app.js"), nullptr);
  EXPECT_EQ(find_static_asset("/api/v1/health"), nullptr);
}

TEST(StaticAssetsTest, PagesLoadNothingFromOtherHosts) {
  // No CDN, no external fonts: every http(s) URL or protocol-relative reference is a failure.
  const std::regex external(R"((https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,})");
  for (const char* path : {"/", "/app.js", "/style.css", "/docs", "/docs/docs.js"}) {
    std::string text = asset_text(path);
    ASSERT_FALSE(text.empty()) << path;
    std::smatch match;
    EXPECT_FALSE(std::regex_search(text, match, external))
        << path << " references " << (match.empty() ? "" : match.str());
  }
  std::string index = asset_text("/");
  EXPECT_NE(index.find(R"(src="/app.js")"), std::string::npos);
  EXPECT_NE(index.find(R"(href="/style.css")"), std::string::npos);
  EXPECT_NE(index.find(R"(data-testid="file-input")"), std::string::npos);
  std::string docs = asset_text("/docs");
  for (const char* local : {"/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js",
                            "/docs/swagger-ui-standalone-preset.js", "/docs/docs.js"}) {
    EXPECT_NE(docs.find(local), std::string::npos) << local;
  }
  EXPECT_NE(asset_text("/docs/docs.js").find("'/openapi.json'"), std::string::npos);
}

TEST(StaticAssetsTest, OpenApiDocumentIsOpenApi3Json) {
  auto document = nlohmann::json::parse(asset_text("/openapi.json"), nullptr, false);
  ASSERT_FALSE(document.is_discarded());
  ASSERT_TRUE(document.is_object());
  EXPECT_EQ(document.value("openapi", "").substr(0, 2), "3.");
  EXPECT_TRUE(document.contains("paths"));
}

}  // namespace
}  // namespace lookalike::api
