#include "api/text_embedding_cache.h"

namespace lookalike::api {

TextEmbeddingCache::TextEmbeddingCache(std::size_t capacity) : capacity_(capacity) {}

std::optional<std::vector<float>> TextEmbeddingCache::get(const std::string& text) {
  std::lock_guard lock(mutex_);
  auto it = by_text_.find(text);
  if (it == by_text_.end()) return std::nullopt;
  entries_.splice(entries_.begin(), entries_, it->second);
  return it->second->second;
}

void TextEmbeddingCache::put(const std::string& text, std::vector<float> embedding) {
  if (capacity_ == 0) return;
  std::lock_guard lock(mutex_);
  if (auto it = by_text_.find(text); it != by_text_.end()) {
    it->second->second = std::move(embedding);
    entries_.splice(entries_.begin(), entries_, it->second);
    return;
  }
  entries_.emplace_front(text, std::move(embedding));
  by_text_[text] = entries_.begin();
  if (entries_.size() > capacity_) {
    by_text_.erase(entries_.back().first);
    entries_.pop_back();
  }
}

}  // namespace lookalike::api
