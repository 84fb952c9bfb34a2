// EmbeddingBatcher: every query embedding of the server goes through one model thread. Requests
// that arrive while a forward pass runs are embedded together in the next one (up to max_batch),
// so concurrent searches share passes instead of fighting over the cores; nothing waits for a
// batch to fill. Image decoding and preprocessing stay on the caller's thread. Text queries are
// served from an LRU cache when repeated.
// Thread-safety: embed_* may be called from any number of threads; the model is borrowed.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "api/text_embedding_cache.h"
#include "clip/clip_model.h"
#include "core/metrics_registry.h"
#include "core/result.h"
#include "image/clip_preprocessor.h"
#include "image/image_decoder.h"

namespace lookalike::api {

struct BatcherOptions {
  int max_image_batch = 16;
  int max_text_batch = 32;
  std::size_t text_cache_entries = 10000;
  image::DecodeLimits limits;
};

class EmbeddingBatcher {
 public:
  // `metrics` may be null.
  EmbeddingBatcher(const clip::ClipModel& model, const image::ClipPreprocessor& preprocessor,
                   BatcherOptions options, MetricsRegistry* metrics);
  ~EmbeddingBatcher();  // finishes queued requests, then stops the model thread
  EmbeddingBatcher(const EmbeddingBatcher&) = delete;
  EmbeddingBatcher& operator=(const EmbeddingBatcher&) = delete;

  // Normalised text embedding; `cached` (if not null) tells whether the cache answered.
  Result<std::vector<float>> embed_text(const std::string& text, bool* cached = nullptr);
  // Encoded image bytes → normalised embedding. Decoder errors (kCorruptData, kUnsupported,
  // kResourceExhausted) come back as they are.
  Result<std::vector<float>> embed_image(std::span<const std::uint8_t> bytes);
  // An already preprocessed tensor (image_tensor_size floats).
  Result<std::vector<float>> embed_tensor(std::vector<float> tensor);

 private:
  struct Request {
    bool is_text = false;
    std::string text;
    std::vector<float> tensor;
    std::promise<Result<std::vector<float>>> done;
  };

  Result<std::vector<float>> submit(Request request);
  void run();
  void embed_batch(std::vector<Request>& batch);

  const clip::ClipModel& model_;
  const image::ClipPreprocessor& preprocessor_;
  BatcherOptions options_;
  TextEmbeddingCache cache_;
  Histogram* image_seconds_ = nullptr;
  Histogram* text_seconds_ = nullptr;
  Histogram* image_batch_ = nullptr;
  Histogram* text_batch_ = nullptr;
  Counter* cache_hits_ = nullptr;
  Counter* cache_misses_ = nullptr;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Request> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace lookalike::api
