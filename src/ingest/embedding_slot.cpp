#include "ingest/embedding_slot.h"

namespace lookalike::ingest {

SlotRegistry::Acquired SlotRegistry::acquire(const std::string& sha256) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = slots_.try_emplace(sha256);
  if (inserted) {
    it->second = std::make_shared<EmbeddingSlot>();
    it->second->sha256 = sha256;
  }
  return {it->second, inserted};
}

void SlotRegistry::publish(const std::shared_ptr<EmbeddingSlot>& slot) {
  std::lock_guard lock(mutex_);
  slot->published = true;
  published_.notify_all();
}

void SlotRegistry::wait_published(const std::shared_ptr<EmbeddingSlot>& slot) {
  std::unique_lock lock(mutex_);
  published_.wait(lock, [&] { return slot->published; });
}

void SlotRegistry::release(const std::string& sha256) {
  std::lock_guard lock(mutex_);
  auto it = slots_.find(sha256);
  // A failed slot stays: the same bad bytes later in the run fail without another decode.
  if (it != slots_.end() && !it->second->error) slots_.erase(it);
}

}  // namespace lookalike::ingest
