// Internal to the image module: the one-time libvips set-up (init, no operation cache, one worker
// thread) and small RAII/error helpers, so that no other file repeats them.
// Thread-safety: ensure_vips() may be called from any thread; it initialises exactly once.
#pragma once

#include <memory>
#include <string>

#include <vips/vips.h>

#include "core/result.h"

namespace lookalike::image::detail {

// Initialises libvips once (std::call_once). Fails only if VIPS_INIT fails.
Status ensure_vips();

struct GObjectUnref {
  void operator()(void* object) const {
    if (object != nullptr) g_object_unref(object);
  }
};
using VipsImagePtr = std::unique_ptr<VipsImage, GObjectUnref>;
using VipsRegionPtr = std::unique_ptr<VipsRegion, GObjectUnref>;

struct GFree {
  void operator()(void* memory) const { g_free(memory); }
};

// Takes (and clears) libvips' error buffer as one trimmed line; `fallback` when it is empty.
// The buffer is process-wide: when two decodes fail at the same moment, one message may carry the
// other's detail (the error code is still right).
std::string take_vips_error(const char* fallback = "libvips reported no detail");

}  // namespace lookalike::image::detail
