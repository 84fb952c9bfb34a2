// TextEmbeddingCache: the most recently used text queries' embeddings (LRU), so a repeated query
// skips the text tower entirely.
// Thread-safety: all methods may be called concurrently (one mutex).
#pragma once

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace lookalike::api {

class TextEmbeddingCache {
 public:
  explicit TextEmbeddingCache(std::size_t capacity);

  std::optional<std::vector<float>> get(const std::string& text);
  void put(const std::string& text, std::vector<float> embedding);

 private:
  using Entry = std::pair<std::string, std::vector<float>>;
  std::size_t capacity_;
  std::mutex mutex_;
  std::list<Entry> entries_;  // most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator> by_text_;
};

}  // namespace lookalike::api
