// Re-embedding: every distinct stored image without a vector for the current model gets one
// (after a model change: all of them). Shared by `lookalike reindex --re-embed` and reindex jobs.
// Thread-safety: one call at a time per catalogue; everything borrowed outlives the call.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "catalog/catalog.h"
#include "clip/clip_model.h"
#include "core/result.h"
#include "image/clip_preprocessor.h"

namespace lookalike::apps {

struct ReEmbedCounts {
  std::int64_t embedded = 0;
  std::int64_t failed = 0;
};

struct ReEmbedCallbacks {
  std::function<void(const ReEmbedCounts&)> progress;  // after each batch
  // An image that could not be read or decoded (the run goes on).
  std::function<void(const std::string& path, const Error& error)> failed;
};

Result<ReEmbedCounts> re_embed_missing(const clip::ClipModel& model,
                                       const image::ClipPreprocessor& preprocessor,
                                       catalog::Catalog& catalog, const std::string& fingerprint,
                                       const std::string& images_dir, int batch,
                                       const ReEmbedCallbacks& callbacks,
                                       const std::atomic<bool>* stop = nullptr);

}  // namespace lookalike::apps
