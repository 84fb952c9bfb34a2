// IndexSync: keeps a vector index in step with the catalogue, its source of truth, by replaying the
// catalogue's change log (catch_up) or rebuilding from scratch (rebuild). Replays are idempotent,
// so a crash between a catalogue commit and an index write is repaired by the next catch_up.
// Thread-safety: catch_up and rebuild are serialised internally, so the HTTP handlers, a background
// follower and an in-process ingestion may all call them. Catalog and index are borrowed.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "catalog/catalog.h"
#include "core/result.h"
#include "index/vector_index.h"

namespace lookalike::search {

struct SyncStats {
  std::int64_t upserted = 0;
  std::int64_t removed = 0;
  std::int64_t applied_seq = 0;
};

class IndexSync {
 public:
  // `persist_seq_in_catalog`: the index cannot store its own applied seq (Qdrant); it is kept in
  // the catalogue's index_state under `state_name`.
  IndexSync(catalog::Catalog& catalog, index::VectorIndex& index, bool persist_seq_in_catalog,
            std::string state_name);

  // Where the index stands: its own seq, or the catalogue's record of it.
  Result<std::int64_t> applied_seq() const;

  // Applies every catalogue change after applied_seq() to the index.
  Result<SyncStats> catch_up();

  // Clears the index and loads every entry of the index's fingerprint from the catalogue.
  // `progress(done)` is called after each page.
  Result<SyncStats> rebuild(const std::function<void(std::int64_t done)>& progress = {});

 private:
  Status record_seq(std::int64_t seq);
  Result<SyncStats> catch_up_locked();

  catalog::Catalog& catalog_;
  index::VectorIndex& index_;
  bool persist_seq_in_catalog_;
  std::string state_name_;
  std::mutex mutex_;
};

// Converts catalogue entries to index points (payload copied).
index::Point to_point(catalog::IndexEntry entry);

}  // namespace lookalike::search
