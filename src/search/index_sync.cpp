#include "search/index_sync.h"

#include <unordered_map>
#include <vector>

namespace lookalike::search {

namespace {

constexpr std::int64_t kChangePage = 20000;
constexpr std::int64_t kScanPage = 8192;
constexpr std::size_t kUpsertChunk = 4096;

Status upsert_entries(index::VectorIndex& index, std::vector<catalog::IndexEntry> entries) {
  std::vector<index::Point> points;
  points.reserve(std::min(entries.size(), kUpsertChunk));
  for (auto& entry : entries) {
    points.push_back(to_point(std::move(entry)));
    if (points.size() == kUpsertChunk) {
      if (auto status = index.upsert(points); !status) return status;
      points.clear();
    }
  }
  if (!points.empty()) return index.upsert(points);
  return ok_status();
}

}  // namespace

index::Point to_point(catalog::IndexEntry entry) {
  index::Point point;
  point.id = entry.image_id;
  point.vector = std::move(entry.vector);
  point.payload.product_id = entry.product_id;
  point.payload.external_id = std::move(entry.external_id);
  point.payload.category = std::move(entry.category);
  point.payload.price_cents = entry.price_cents;
  point.payload.currency = std::move(entry.currency);
  return point;
}

IndexSync::IndexSync(catalog::Catalog& catalog, index::VectorIndex& index,
                     bool persist_seq_in_catalog, std::string state_name)
    : catalog_(catalog),
      index_(index),
      persist_seq_in_catalog_(persist_seq_in_catalog),
      state_name_(std::move(state_name)) {}

Result<std::int64_t> IndexSync::applied_seq() const {
  if (!persist_seq_in_catalog_) return index_.applied_seq();
  return catalog_.index_applied_seq(state_name_);
}

Status IndexSync::record_seq(std::int64_t seq) {
  if (auto status = index_.set_applied_seq(seq); !status) return status;
  if (persist_seq_in_catalog_) return catalog_.set_index_applied_seq(state_name_, seq);
  return ok_status();
}

Result<SyncStats> IndexSync::catch_up() {
  std::lock_guard lock(mutex_);
  return catch_up_locked();
}

Result<SyncStats> IndexSync::catch_up_locked() {
  auto seq = applied_seq();
  if (!seq) return seq.error();
  SyncStats stats;
  stats.applied_seq = *seq;
  for (;;) {
    auto changes = catalog_.changes_since(stats.applied_seq, kChangePage);
    if (!changes) return changes.error();
    if (changes->empty()) break;
    // Only the last change of each image matters.
    std::unordered_map<std::int64_t, catalog::IndexChange::Kind> last;
    for (const auto& change : *changes) last[change.image_id] = change.kind;
    std::vector<std::int64_t> upserts;
    std::vector<std::int64_t> removals;
    for (const auto& [image_id, kind] : last) {
      (kind == catalog::IndexChange::Kind::kUpsert ? upserts : removals).push_back(image_id);
    }
    if (!upserts.empty()) {
      auto entries = catalog_.index_entries(upserts, index_.fingerprint());
      if (!entries) return entries.error();
      // An upserted image without an embedding of this model (or deleted since) must not linger.
      std::unordered_map<std::int64_t, bool> found;
      for (const auto& entry : *entries) found[entry.image_id] = true;
      for (auto id : upserts) {
        if (!found.contains(id)) removals.push_back(id);
      }
      stats.upserted += static_cast<std::int64_t>(entries->size());
      if (auto status = upsert_entries(index_, std::move(*entries)); !status) return status.error();
    }
    if (!removals.empty()) {
      if (auto status = index_.remove(removals); !status) return status.error();
      stats.removed += static_cast<std::int64_t>(removals.size());
    }
    stats.applied_seq = changes->back().seq;
    if (auto status = record_seq(stats.applied_seq); !status) return status.error();
  }
  return stats;
}

Result<SyncStats> IndexSync::rebuild(const std::function<void(std::int64_t)>& progress) {
  std::lock_guard lock(mutex_);
  // Changes committed during the scan are replayed afterwards: replays are idempotent.
  auto last_seq = catalog_.last_change_seq();
  if (!last_seq) return last_seq.error();
  if (auto status = index_.clear(); !status) return status.error();
  SyncStats stats;
  std::int64_t after = 0;
  for (;;) {
    auto entries = catalog_.scan_index_entries(index_.fingerprint(), after, kScanPage);
    if (!entries) return entries.error();
    if (entries->empty()) break;
    after = entries->back().image_id;
    stats.upserted += static_cast<std::int64_t>(entries->size());
    if (auto status = upsert_entries(index_, std::move(*entries)); !status) return status.error();
    if (progress) progress(stats.upserted);
  }
  if (auto status = record_seq(*last_seq); !status) return status.error();
  auto tail = catch_up_locked();
  if (!tail) return tail.error();
  stats.upserted += tail->upserted;
  stats.removed += tail->removed;
  stats.applied_seq = tail->applied_seq;
  if (auto status = index_.flush(); !status) return status.error();
  return stats;
}

}  // namespace lookalike::search
