// EmbeddedIndex: the in-process VectorIndex backend — hnswlib's graph (which also stores the
// vectors, once) plus a payload table, persisted as generations under options.directory
// (index_files.h). A query planner picks, per query, an exact scan (small index, selective
// filter, or query.exact) or a filter-aware HNSW search.
//
// Thread-safety: search()/info() run concurrently (shared lock); upsert/remove/clear/
// set_applied_seq/flush are serialised (a writer mutex, then an exclusive lock to mutate; flush
// holds only the shared lock while writing files, so searches continue).
// An empty options.directory gives an in-memory index whose flush() does nothing.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "index/embedded/hnsw_graph.h"
#include "index/embedded/payload_table.h"
#include "index/index_factory.h"
#include "index/vector_index.h"

namespace lookalike::index::embedded {

class EmbeddedIndex final : public VectorIndex {
 public:
  // Loads the current generation under options.directory if there is one. Unreadable files are
  // an error naming the file (the caller may delete the directory and rebuild); an index of
  // another fingerprint opens empty, and info().note says so.
  static Result<std::unique_ptr<EmbeddedIndex>> open(const IndexOptions& options);
  ~EmbeddedIndex() override;

  int dimension() const override { return options_.dimension; }
  std::string fingerprint() const override { return options_.fingerprint; }
  Status upsert(std::span<const Point> points) override;
  Status remove(std::span<const std::int64_t> ids) override;
  Status clear() override;
  Result<std::vector<SearchHit>> search(const SearchQuery& query) const override;
  std::int64_t applied_seq() const override;
  Status set_applied_seq(std::int64_t seq) override;
  Status flush() override;
  Result<IndexInfo> info() const override;

  // Planner threshold (options.hnsw.exact_below), adjustable for benchmarks.
  void set_exact_below(std::int64_t points) { exact_below_ = points; }

 private:
  explicit EmbeddedIndex(const IndexOptions& options);

  Status validate(const Point& point) const;
  Status add_points(std::span<const Point> points, std::span<const std::size_t> order);
  // Rebuilds graph and payload without deleted slots (caller holds write_mutex_ only).
  Status compact();
  std::vector<SearchHit> search_exact(const float* query, const SearchQuery& q,
                                      const CompiledFilter& filter, float min_score) const;
  std::vector<SearchHit> search_hnsw(const float* query, const SearchQuery& q,
                                     const CompiledFilter& filter, float min_score,
                                     double selectivity, std::int64_t matches) const;

  // Writers take gate_ while waiting for the exclusive lock and readers pass through it first,
  // so a steady stream of searches cannot starve writes (glibc's rwlock prefers readers).
  std::shared_lock<std::shared_mutex> lock_shared() const;
  std::unique_lock<std::shared_mutex> lock_exclusive();

  IndexOptions options_;
  std::atomic<std::int64_t> exact_below_;
  std::mutex write_mutex_;  // serialises writers and flushes
  mutable std::mutex gate_;
  mutable std::shared_mutex mutex_;  // guards everything below
  std::unique_ptr<HnswGraph> graph_;
  PayloadTable payload_;
  std::unordered_map<std::int64_t, std::uint32_t> slot_of_id_;  // alive points only
  std::int64_t applied_seq_ = 0;
  std::int64_t generation_ = 0;  // highest on disk
  bool dirty_ = false;           // changed since the last flush
  std::string note_;
};

}  // namespace lookalike::index::embedded

namespace lookalike::index {

Result<std::unique_ptr<VectorIndex>> open_embedded_index(const IndexOptions& options);

}  // namespace lookalike::index
