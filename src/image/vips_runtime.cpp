#include "image/vips_runtime.h"

#include <mutex>

namespace lookalike::image::detail {
namespace {

// libvips reports recoverable decoder complaints ("extraneous bytes before marker", ...) as GLib
// warnings on stderr; during bulk ingestion they are noise, and the decode result already says
// whether the image was usable. Only criticals (libvips bugs) reach the default handler.
void filter_vips_log(const gchar* domain, GLogLevelFlags level, const gchar* message,
                     gpointer data) {
  if ((level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) != 0) {
    g_log_default_handler(domain, level, message, data);
  }
}

std::once_flag g_init_once;
bool g_init_ok = false;
std::string g_init_error;

}  // namespace

Status ensure_vips() {
  std::call_once(g_init_once, [] {
    if (VIPS_INIT("lookalike") != 0) {
      g_init_error = take_vips_error("VIPS_INIT failed");
      return;
    }
    // No operation cache: every decode is of new bytes, and the cache would pin memory.
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    // The CLIP engine owns the cores; decoding runs on the caller's thread only.
    vips_concurrency_set(1);
    g_log_set_handler(
        "VIPS",
        static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO |
                                    G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_CRITICAL),
        filter_vips_log, nullptr);
    g_init_ok = true;
  });
  if (!g_init_ok) return make_error(ErrorCode::kInternal, "libvips: " + g_init_error);
  return ok_status();
}

std::string take_vips_error(const char* fallback) {
  std::unique_ptr<char, GFree> buffer(vips_error_buffer_copy());
  std::string text = buffer != nullptr ? std::string(buffer.get()) : std::string();
  for (auto& c : text) {
    if (c == '\n') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (text.empty()) text = fallback;
  return text;
}

}  // namespace lookalike::image::detail
