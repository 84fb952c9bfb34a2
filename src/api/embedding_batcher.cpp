#include "api/embedding_batcher.h"

#include <chrono>

namespace lookalike::api {

namespace {

std::vector<double> batch_buckets() { return {1, 2, 4, 8, 16, 32, 64}; }

}  // namespace

EmbeddingBatcher::EmbeddingBatcher(const clip::ClipModel& model,
                                   const image::ClipPreprocessor& preprocessor,
                                   BatcherOptions options, MetricsRegistry* metrics)
    : model_(model),
      preprocessor_(preprocessor),
      options_(options),
      cache_(options.text_cache_entries) {
  if (metrics != nullptr) {
    const char* seconds_help = "Time of one forward pass through a tower, by query kind";
    const char* batch_help = "Queries embedded together in one forward pass";
    image_seconds_ = &metrics->histogram("lookalike_embedding_duration_seconds", seconds_help,
                                         latency_buckets_seconds(), {{"kind", "image"}});
    text_seconds_ = &metrics->histogram("lookalike_embedding_duration_seconds", seconds_help,
                                        latency_buckets_seconds(), {{"kind", "text"}});
    image_batch_ = &metrics->histogram("lookalike_embedding_batch_size", batch_help,
                                       batch_buckets(), {{"kind", "image"}});
    text_batch_ = &metrics->histogram("lookalike_embedding_batch_size", batch_help, batch_buckets(),
                                      {{"kind", "text"}});
    cache_hits_ = &metrics->counter("lookalike_text_cache_hits_total",
                                    "Text queries answered from the embedding cache");
    cache_misses_ = &metrics->counter("lookalike_text_cache_misses_total",
                                      "Text queries that went through the text tower");
  }
  thread_ = std::thread([this] { run(); });
}

EmbeddingBatcher::~EmbeddingBatcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

Result<std::vector<float>> EmbeddingBatcher::embed_text(const std::string& text, bool* cached) {
  if (!model_.has_text()) {
    return make_error(ErrorCode::kFailedPrecondition, "the text tower is not loaded");
  }
  if (auto hit = cache_.get(text)) {
    if (cache_hits_ != nullptr) cache_hits_->inc();
    if (cached != nullptr) *cached = true;
    return std::move(*hit);
  }
  if (cache_misses_ != nullptr) cache_misses_->inc();
  if (cached != nullptr) *cached = false;
  Request request;
  request.is_text = true;
  request.text = text;
  auto vector = submit(std::move(request));
  if (vector) cache_.put(text, *vector);
  return vector;
}

Result<std::vector<float>> EmbeddingBatcher::embed_image(std::span<const std::uint8_t> bytes) {
  if (!model_.has_vision()) {
    return make_error(ErrorCode::kFailedPrecondition, "the vision tower is not loaded");
  }
  auto decoded = image::decode_image(bytes, options_.limits);
  if (!decoded) return decoded.error();
  return embed_tensor(preprocessor_.preprocess(*decoded));
}

Result<std::vector<float>> EmbeddingBatcher::embed_tensor(std::vector<float> tensor) {
  if (!model_.has_vision()) {
    return make_error(ErrorCode::kFailedPrecondition, "the vision tower is not loaded");
  }
  if (tensor.size() != model_.image_tensor_size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "preprocessor_config.json crop does not match the model's image_size");
  }
  Request request;
  request.tensor = std::move(tensor);
  return submit(std::move(request));
}

Result<std::vector<float>> EmbeddingBatcher::submit(Request request) {
  auto future = request.done.get_future();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return make_error(ErrorCode::kCancelled, "the server is shutting down");
    queue_.push_back(std::move(request));
  }
  wake_.notify_one();
  return future.get();
}

void EmbeddingBatcher::run() {
  for (;;) {
    std::vector<Request> batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      // One kind per pass: the first waiting request's, up to that kind's batch limit, in
      // arrival order; requests of the other kind keep their place.
      const bool text = queue_.front().is_text;
      const auto limit =
          static_cast<std::size_t>(text ? options_.max_text_batch : options_.max_image_batch);
      for (auto it = queue_.begin(); it != queue_.end() && batch.size() < limit;) {
        if (it->is_text == text) {
          batch.push_back(std::move(*it));
          it = queue_.erase(it);
        } else {
          ++it;
        }
      }
    }
    embed_batch(batch);
  }
}

void EmbeddingBatcher::embed_batch(std::vector<Request>& batch) {
  const bool text = batch.front().is_text;
  const auto n = batch.size();
  const auto dim = static_cast<std::size_t>(model_.embedding_dim());
  std::vector<float> out(n * dim);
  auto start = std::chrono::steady_clock::now();
  Status status = ok_status();
  try {
    if (text) {
      std::vector<std::string> texts;
      for (auto& request : batch) texts.push_back(std::move(request.text));
      status = model_.embed_texts(texts, out.data());
    } else {
      std::vector<float> pixels;
      pixels.reserve(n * model_.image_tensor_size());
      for (auto& request : batch) {
        pixels.insert(pixels.end(), request.tensor.begin(), request.tensor.end());
      }
      status = model_.embed_images(pixels.data(), static_cast<int>(n), out.data());
    }
  } catch (const std::exception& e) {
    // A bug in a forward pass must not take the model thread (and every later query) down.
    status = make_error(ErrorCode::kInternal, std::string("embedding failed: ") + e.what());
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Histogram* duration = text ? text_seconds_ : image_seconds_;
  Histogram* batch_size = text ? text_batch_ : image_batch_;
  if (duration != nullptr) duration->observe(seconds);
  if (batch_size != nullptr) batch_size->observe(static_cast<double>(n));
  for (std::size_t i = 0; i < n; ++i) {
    if (!status) {
      batch[i].done.set_value(status.error());
      continue;
    }
    batch[i].done.set_value(
        std::vector<float>(out.begin() + static_cast<std::ptrdiff_t>(i * dim),
                           out.begin() + static_cast<std::ptrdiff_t>((i + 1) * dim)));
  }
}

}  // namespace lookalike::api
