// Health, readiness, metrics, the web page, Swagger UI, OpenAPI and stored images.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/routes/routes.h"
#include "api/static_assets.h"

namespace lookalike::api {

namespace {

namespace fs = std::filesystem;

void health(RouteContext& ctx) {
  send_json(ctx.response, 200, {{"status", "ok"}, {"version", ctx.config.version}});
}

void ready(RouteContext& ctx) {
  nlohmann::ordered_json checks;
  bool ok = ctx.services != nullptr;
  if (!ok) {
    checks["model"] = "loading";
  } else {
    checks["model"] = "ok";
    auto seq = ctx.services->catalog->last_change_seq();
    checks["catalog"] = seq ? "ok" : seq.error().message;
    auto info = ctx.services->index->info();
    checks["index"] = info ? "ok" : info.error().message;
    auto jobs = ctx.services->jobs->ping();
    checks["jobs"] = jobs ? "ok" : jobs.error().message;
    ok = seq && info && jobs;
  }
  if (ok) return send_json(ctx.response, 200, {{"status", "ready"}, {"checks", checks}});
  nlohmann::ordered_json body;
  body["error"] = {{"code", "unavailable"}, {"message", "not ready"}};
  body["status"] = "not_ready";
  body["checks"] = checks;
  send_json(ctx.response, 503, body);
}

void static_asset(RouteContext& ctx) {
  const auto* asset = find_static_asset(ctx.request.path);
  if (asset == nullptr) {
    return send_error(ctx.response, make_http_error(404, "not_found", "no such page"));
  }
  ctx.response.set_header("ETag", std::string(asset->etag));
  ctx.response.set_header("Cache-Control", "no-cache");
  ctx.response.set_header("X-Content-Type-Options", "nosniff");
  if (ctx.request.get_header_value("If-None-Match") == asset->etag) {
    ctx.response.status = 304;
    return;
  }
  ctx.response.status = 200;
  ctx.response.set_content(std::string(asset->data), std::string(asset->content_type));
}

std::string image_content_type(const fs::path& path) {
  auto ext = path.extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".png") return "image/png";
  if (ext == ".webp") return "image/webp";
  if (ext == ".gif") return "image/gif";
  if (ext == ".avif") return "image/avif";
  if (ext == ".heic" || ext == ".heif") return "image/heif";
  if (ext == ".tif" || ext == ".tiff") return "image/tiff";
  if (ext == ".bmp") return "image/bmp";
  return "application/octet-stream";
}

// Only plain relative paths below the images directory: no "." or ".." segments, no empty
// segments, no backslashes or NULs, and (after resolving symlinks) still inside the directory.
void stored_image(RouteContext& ctx) {
  const std::string& relative = ctx.params[0];
  auto not_found = [&] {
    send_error(ctx.response, make_http_error(404, "not_found", "no such image"));
  };
  if (relative.find('\\') != std::string::npos || relative.find('\0') != std::string::npos) {
    return not_found();
  }
  std::stringstream segments(relative);
  for (std::string segment; std::getline(segments, segment, '/');) {
    if (segment.empty() || segment == "." || segment == "..") return not_found();
  }
  if (relative.back() == '/') return not_found();
  std::error_code error;
  const fs::path root = fs::canonical(ctx.services->images->root(), error);
  if (error) return not_found();
  const fs::path path = fs::canonical(root / relative, error);
  if (error || !fs::is_regular_file(path, error)) return not_found();
  auto [root_end, unused] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  if (root_end != root.end()) return not_found();
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return not_found();
  ctx.response.set_header("Cache-Control", "public, max-age=86400");
  ctx.response.set_header("X-Content-Type-Options", "nosniff");
  ctx.response.status = 200;
  ctx.response.set_content(std::move(bytes), image_content_type(path));
}

}  // namespace

std::string public_url_prefix(const ApiConfig& config) {
  std::string prefix = config.public_url;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return prefix;
}

void add_ops_routes(Router& router, MetricsRegistry& metrics) {
  router.add("GET", "/api/v1/health", Access::kPublic, health, false);
  router.add("GET", "/api/v1/health/ready", Access::kPublic, ready, false);
  router.add(
      "GET", "/metrics", Access::kPublic,
      [&metrics](RouteContext& ctx) {
        ctx.response.status = 200;
        ctx.response.set_content(metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
      },
      false);
  for (const auto& asset : static_assets()) {
    router.add("GET", std::string(asset.path), Access::kPublic, static_asset, false);
  }
  router.add("GET", "/images/{path+}", Access::kPublic, stored_image);
}

}  // namespace lookalike::api
