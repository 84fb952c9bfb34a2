// The files `lookalike serve` answers from memory: the web page (GET /), Swagger UI (GET /docs)
// and the OpenAPI document (GET /openapi.json). They are built into the binary
// (cmake/embed_files.cmake), so the product stays one file with no web root to deploy.
// Thread-safety: immutable data; every function may be called from any thread.
#pragma once

#include <span>
#include <string_view>

namespace lookalike::api {

struct StaticAsset {
  std::string_view path;          // the URL path: "/", "/app.js", "/docs", "/openapi.json", ...
  std::string_view content_type;  // e.g. "text/html; charset=utf-8", ready for Content-Type
  std::string_view data;          // the file's bytes
  std::string_view etag;          // quoted, ready for ETag / If-None-Match: "\"0123456789abcdef\""
};

// The asset served at `url_path` (no query string), or nullptr. "/docs/" finds "/docs" and
// "/index.html" finds "/".
const StaticAsset* find_static_asset(std::string_view url_path);

// Every asset, in the order they were embedded.
std::span<const StaticAsset> static_assets();

}  // namespace lookalike::api
