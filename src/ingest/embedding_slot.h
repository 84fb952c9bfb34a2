// EmbeddingSlot / SlotRegistry: one slot per distinct image content (SHA-256) in flight during an
// ingestion run, so that duplicate images are decoded, stored and embedded once. The first worker
// to see a hash owns its slot and publishes it (stored path + tensor, or a failure); workers that
// see the same hash later wait for that and then share the slot's file and vector.
// Thread-safety: the registry is thread-safe. A slot's fields are written by its owner before
// publish() and by the embedding thread (vector, embedded) before products using it are released.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.h"

namespace lookalike::ingest {

struct EmbeddingSlot {
  std::string sha256;
  // Set by the owner before publish():
  std::string stored_path;  // relative to the image store; duplicates hard-link to it
  std::string format;
  int width = 0;
  int height = 0;
  std::vector<float> tensor;  // preprocessed pixels; empty when `embedded` already
  std::optional<Error> error;
  // Set by the embedding thread (or by the owner when the catalogue already had the vector):
  std::vector<float> vector;
  bool embedded = false;
  bool in_catalog = false;  // the catalogue already holds this content's vector for the model
  bool published = false;   // guarded by the registry's mutex
};

class SlotRegistry {
 public:
  struct Acquired {
    std::shared_ptr<EmbeddingSlot> slot;
    bool owner = false;
  };

  // The slot for `sha256`, created (and owned by the caller) when there is none.
  Acquired acquire(const std::string& sha256);
  // Owner: the slot's stored_path/tensor (or error) are final.
  void publish(const std::shared_ptr<EmbeddingSlot>& slot);
  // Blocks until the slot is published.
  void wait_published(const std::shared_ptr<EmbeddingSlot>& slot);
  // Forgets a slot once its vector is in the catalogue (later duplicates find it there).
  void release(const std::string& sha256);

 private:
  std::mutex mutex_;
  std::condition_variable published_;
  std::unordered_map<std::string, std::shared_ptr<EmbeddingSlot>> slots_;
};

}  // namespace lookalike::ingest
