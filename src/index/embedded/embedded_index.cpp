#include "index/embedded/embedded_index.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "index/embedded/exact_scan.h"
#include "index/embedded/filtered_hnsw_search.h"
#include "index/embedded/index_files.h"

namespace lookalike::index::embedded {

namespace {

constexpr std::size_t kInitialCapacity = 1024;
// Flush rebuilds the graph when more than this fraction of its slots are deleted points.
constexpr double kCompactFraction = 0.2;
constexpr std::size_t kCompactMinDead = 1000;
// Batches at least this large are added to the graph by all OpenMP threads.
constexpr std::size_t kParallelAdd = 64;
// A filtered HNSW walk costs about 1/selectivity unfiltered ones (measured at 200K x 512: a 10%
// filter took 14.6 ms at recall 0.92 with HNSW, 4.3 ms exact), so filters keeping fewer than this
// many times exact_below points are scanned exactly.
constexpr std::int64_t kFilteredExactFactor = 3;

Error invalid(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

bool all_finite(std::span<const float> values) {
  return std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); });
}

// Best-first candidates → hits: one per product when grouping, at most `limit`.
std::vector<SearchHit> to_hits(const std::vector<ScoredSlot>& candidates,
                               const PayloadTable& payload, std::size_t limit, bool group,
                               float min_score) {
  std::vector<SearchHit> hits;
  std::unordered_set<std::int64_t> products;
  for (const ScoredSlot& c : candidates) {
    if (hits.size() >= limit || c.score < min_score) break;
    const std::int64_t product = payload.product_id(c.slot);
    if (group && !products.insert(product).second) continue;
    hits.push_back({payload.image_id(c.slot), product, c.score});
  }
  return hits;
}

}  // namespace

EmbeddedIndex::EmbeddedIndex(const IndexOptions& options)
    : options_(options), exact_below_(options.hnsw.exact_below) {}

EmbeddedIndex::~EmbeddedIndex() = default;

Result<std::unique_ptr<EmbeddedIndex>> EmbeddedIndex::open(const IndexOptions& options) {
  const HnswOptions& hnsw = options.hnsw;
  // Dimension 0 with an empty fingerprint opens the stored index as it is (kNotFound if none).
  const bool as_stored = options.dimension == 0 && options.fingerprint.empty();
  if ((options.dimension < 1 && !as_stored) || options.dimension > 65536) {
    return invalid("vector index: dimension must be in [1, 65536], got " +
                   std::to_string(options.dimension));
  }
  if (hnsw.m < 2 || hnsw.m > 1024 || hnsw.ef_construction < 1 || hnsw.ef_search < 1 ||
      hnsw.exact_below < 0) {
    return invalid("vector index: HNSW options out of range (M in [2, 1024], ef >= 1)");
  }
  std::unique_ptr<EmbeddedIndex> index(new EmbeddedIndex(options));
  if (!options.directory.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.directory, ec);
    if (ec) return make_error(ErrorCode::kIoError, options.directory + ": " + ec.message());
    auto loaded =
        load_current_generation(options.directory, options.dimension, options.fingerprint);
    if (!loaded) return loaded.error();
    index->generation_ = highest_generation(options.directory);
    if (*loaded && (*loaded)->graph) {
      LoadedGeneration& gen = **loaded;
      if (as_stored) {
        index->options_.dimension = gen.meta.dimension;
        index->options_.fingerprint = gen.meta.fingerprint;
      }
      index->graph_ = std::move(gen.graph);
      index->payload_ = std::move(gen.payload);
      index->applied_seq_ = gen.meta.applied_seq;
      index->note_ = gen.note;
      index->slot_of_id_.reserve(static_cast<std::size_t>(index->payload_.alive_count()));
      for (std::uint32_t slot = 0; slot < index->payload_.size(); ++slot) {
        if (!index->payload_.alive(slot)) continue;
        if (!index->slot_of_id_.emplace(index->payload_.image_id(slot), slot).second) {
          return make_error(ErrorCode::kCorruptData,
                            options.directory + ": image id " +
                                std::to_string(index->payload_.image_id(slot)) + " stored twice");
        }
      }
    } else if (*loaded) {
      index->note_ = "the stored index was built for model fingerprint '" +
                     (*loaded)->meta.fingerprint + "', not '" + options.fingerprint +
                     "': started empty, rebuild it from the catalogue";
      index->dirty_ = true;  // the next flush replaces the stale generation
    }
  }
  if (!index->graph_ && as_stored) {
    return make_error(ErrorCode::kNotFound, options.directory + ": no stored vector index");
  }
  if (!index->graph_) {
    auto graph =
        HnswGraph::create(options.dimension, hnsw.m, hnsw.ef_construction, kInitialCapacity);
    if (!graph) return graph.error();
    index->graph_ = std::move(*graph);
  }
  return index;
}

std::shared_lock<std::shared_mutex> EmbeddedIndex::lock_shared() const {
  { std::lock_guard gate(gate_); }
  return std::shared_lock(mutex_);
}

std::unique_lock<std::shared_mutex> EmbeddedIndex::lock_exclusive() {
  std::lock_guard gate(gate_);
  return std::unique_lock(mutex_);
}

Status EmbeddedIndex::validate(const Point& point) const {
  if (point.id <= 0) return invalid("point id must be > 0, got " + std::to_string(point.id));
  if (point.vector.size() != static_cast<std::size_t>(options_.dimension)) {
    return invalid("point " + std::to_string(point.id) + ": vector has " +
                   std::to_string(point.vector.size()) + " values, the index holds " +
                   std::to_string(options_.dimension));
  }
  if (!all_finite(point.vector)) {
    return invalid("point " + std::to_string(point.id) + ": vector has NaN or infinite values");
  }
  return ok_status();
}

Status EmbeddedIndex::upsert(std::span<const Point> points) {
  for (const Point& point : points) {
    if (auto status = validate(point); !status) return status;
  }
  // The last occurrence of an id in the batch wins.
  std::unordered_map<std::int64_t, std::size_t> last;
  last.reserve(points.size());
  for (std::size_t i = 0; i < points.size(); ++i) last[points[i].id] = i;
  std::vector<std::size_t> order;
  order.reserve(last.size());
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (last[points[i].id] == i) order.push_back(i);
  }
  std::lock_guard writer(write_mutex_);
  auto lock = lock_exclusive();
  dirty_ = true;
  // Replacing = deleting the old slot and adding a new one: hnswlib 0.6's in-place update
  // rewires neighbours probabilistically, a fresh insertion is exact.
  for (std::size_t i : order) {
    auto it = slot_of_id_.find(points[i].id);
    if (it == slot_of_id_.end()) continue;
    graph_->mark_deleted(it->second);
    payload_.kill(it->second);
    slot_of_id_.erase(it);
  }
  return add_points(points, order);
}

Status EmbeddedIndex::add_points(std::span<const Point> points,
                                 std::span<const std::size_t> order) {
  const std::size_t base = graph_->size();
  const std::size_t needed = base + order.size();
  if (needed > graph_->capacity()) {
    const std::size_t grown = std::max(needed, graph_->capacity() + graph_->capacity() / 2);
    if (auto status = graph_->reserve(grown); !status) return status;
  }
  std::vector<std::int32_t> categories(order.size());
  for (std::size_t j = 0; j < order.size(); ++j) {
    categories[j] = payload_.intern(points[order[j]].payload.category);
  }
  // hnswlib's addPoint is thread-safe for distinct labels; labels base + j never repeat since
  // every existing label is below size().
  std::vector<std::uint32_t> slots(order.size(), std::numeric_limits<std::uint32_t>::max());
  std::optional<Error> failure;
  const auto count = static_cast<std::int64_t>(order.size());
#pragma omp parallel for schedule(dynamic, 16) if (order.size() >= kParallelAdd)
  for (std::int64_t j = 0; j < count; ++j) {
    const Point& point = points[order[static_cast<std::size_t>(j)]];
    auto slot = graph_->add(point.vector.data(), base + static_cast<std::uint64_t>(j));
    if (slot) {
      slots[static_cast<std::size_t>(j)] = *slot;
    } else {
#pragma omp critical(lookalike_index_add_failure)
      if (!failure) failure = slot.error();
    }
  }
  payload_.resize(graph_->size());
  for (std::size_t j = 0; j < order.size(); ++j) {
    if (slots[j] == std::numeric_limits<std::uint32_t>::max()) continue;
    const Point& point = points[order[j]];
    payload_.set(slots[j], point.id, point.payload, categories[j]);
    slot_of_id_[point.id] = slots[j];
  }
  // A failed add may still have claimed a slot: keep graph marks in step with the payload.
  for (std::uint32_t slot = static_cast<std::uint32_t>(base); slot < graph_->size(); ++slot) {
    if (!payload_.alive(slot)) graph_->mark_deleted(slot);
  }
  if (failure) return *failure;
  return ok_status();
}

Status EmbeddedIndex::remove(std::span<const std::int64_t> ids) {
  std::lock_guard writer(write_mutex_);
  auto lock = lock_exclusive();
  for (std::int64_t id : ids) {
    auto it = slot_of_id_.find(id);
    if (it == slot_of_id_.end()) continue;
    graph_->mark_deleted(it->second);
    payload_.kill(it->second);
    slot_of_id_.erase(it);
    dirty_ = true;
  }
  return ok_status();
}

Status EmbeddedIndex::clear() {
  std::lock_guard writer(write_mutex_);
  auto graph = HnswGraph::create(options_.dimension, options_.hnsw.m, options_.hnsw.ef_construction,
                                 kInitialCapacity);
  if (!graph) return graph.error();
  auto lock = lock_exclusive();
  graph_ = std::move(*graph);
  payload_.clear();
  slot_of_id_.clear();
  dirty_ = true;
  return ok_status();
}

Result<std::vector<SearchHit>> EmbeddedIndex::search(const SearchQuery& q) const {
  if (q.vector.size() != static_cast<std::size_t>(options_.dimension)) {
    return invalid("query vector has " + std::to_string(q.vector.size()) +
                   " values, the index holds " + std::to_string(options_.dimension));
  }
  if (!all_finite(q.vector)) return invalid("query vector has NaN or infinite values");
  if (q.limit < 0) return invalid("limit must be >= 0, got " + std::to_string(q.limit));
  if (q.score_threshold && std::isnan(*q.score_threshold)) {
    return invalid("score threshold is NaN");
  }
  const float min_score = q.score_threshold.value_or(-std::numeric_limits<float>::infinity());

  auto lock = lock_shared();
  const CompiledFilter filter = payload_.compile(q.filter);
  if (q.limit == 0 || filter.matches_nothing || payload_.alive_count() == 0) {
    return std::vector<SearchHit>();
  }
  const std::int64_t exact_below = exact_below_;
  bool exact = q.exact || payload_.alive_count() < exact_below;
  PayloadTable::MatchCount matches{payload_.alive_count(), 1.0, false};
  if (!exact && !filter.any()) {
    const std::int64_t filtered_exact_below = kFilteredExactFactor * exact_below;
    matches = payload_.count_matches(filter, filtered_exact_below);
    exact = matches.count < filtered_exact_below;
  }
  if (matches.count == 0) return std::vector<SearchHit>();
  if (exact) return search_exact(q.vector.data(), q, filter, min_score);
  return search_hnsw(q.vector.data(), q, filter, min_score, matches.selectivity,
                     matches.stopped_early ? payload_.alive_count() : matches.count);
}

std::vector<SearchHit> EmbeddedIndex::search_exact(const float* query, const SearchQuery& q,
                                                   const CompiledFilter& filter,
                                                   float min_score) const {
  const auto limit = static_cast<std::size_t>(q.limit);
  const GraphView view = graph_->view();
  if (!q.group_by_product) {
    return to_hits(exact_scan(view, payload_, filter, query, limit, min_score), payload_, limit,
                   false, min_score);
  }
  // Products with many images may crowd the top k: widen until enough products or no more.
  for (std::size_t k = limit * 4;; k *= 4) {
    auto candidates = exact_scan(view, payload_, filter, query, k, min_score);
    auto hits = to_hits(candidates, payload_, limit, true, min_score);
    if (hits.size() >= limit || candidates.size() < k) return hits;
  }
}

std::vector<SearchHit> EmbeddedIndex::search_hnsw(const float* query, const SearchQuery& q,
                                                  const CompiledFilter& filter, float min_score,
                                                  double selectivity, std::int64_t matches) const {
  const auto limit = static_cast<std::size_t>(q.limit);
  const std::size_t ef =
      std::max<std::size_t>(static_cast<std::size_t>(options_.hnsw.ef_search), limit);
  std::size_t wanted = ef;
  // A selective filter leaves fewer matching neighbours per hop: a wider beam keeps recall.
  if (selectivity < 0.5) wanted += ef / 2;
  if (q.group_by_product) wanted = std::max(wanted, limit * 4);
  const GraphView view = graph_->view();
  for (;;) {
    auto found = filtered_hnsw_search(view, payload_, filter, query, wanted);
    auto hits = to_hits(found.hits, payload_, limit, q.group_by_product, min_score);
    const bool done = hits.size() >= limit || found.exhausted ||
                      static_cast<std::int64_t>(wanted) >= matches ||
                      (!found.hits.empty() && found.hits.back().score < min_score);
    if (done) return hits;
    wanted *= 4;  // grouping: products with many images crowded the beam
  }
}

std::int64_t EmbeddedIndex::applied_seq() const {
  auto lock = lock_shared();
  return applied_seq_;
}

Status EmbeddedIndex::set_applied_seq(std::int64_t seq) {
  if (seq < 0) return invalid("applied seq must be >= 0, got " + std::to_string(seq));
  std::lock_guard writer(write_mutex_);
  auto lock = lock_exclusive();
  if (seq != applied_seq_) dirty_ = true;
  applied_seq_ = seq;
  return ok_status();
}

Status EmbeddedIndex::compact() {
  std::vector<std::uint32_t> alive;
  std::unique_ptr<HnswGraph> graph;
  PayloadTable payload;
  std::unordered_map<std::int64_t, std::uint32_t> slot_of_id;
  {
    auto lock = lock_shared();  // writers are held off by write_mutex_
    alive.reserve(static_cast<std::size_t>(payload_.alive_count()));
    for (std::uint32_t slot = 0; slot < payload_.size(); ++slot) {
      if (payload_.alive(slot)) alive.push_back(slot);
    }
    auto created = HnswGraph::create(options_.dimension, graph_->m(), graph_->ef_construction(),
                                     std::max(alive.size(), kInitialCapacity));
    if (!created) return created.error();
    graph = std::move(*created);
    std::vector<std::uint32_t> slots(alive.size(), std::numeric_limits<std::uint32_t>::max());
    const GraphView old = graph_->view();
    const auto count = static_cast<std::int64_t>(alive.size());
#pragma omp parallel for schedule(dynamic, 16)
    for (std::int64_t j = 0; j < count; ++j) {
      auto slot =
          graph->add(old.vector(alive[static_cast<std::size_t>(j)]), static_cast<std::uint64_t>(j));
      if (slot) slots[static_cast<std::size_t>(j)] = *slot;
    }
    payload = payload_.with_categories_only();
    payload.resize(graph->size());
    slot_of_id.reserve(alive.size());
    for (std::size_t j = 0; j < alive.size(); ++j) {
      if (slots[j] == std::numeric_limits<std::uint32_t>::max()) {
        return make_error(ErrorCode::kInternal, "vector index compaction failed to add a point");
      }
      payload.copy_slot(payload_, alive[j], slots[j]);
      slot_of_id.emplace(payload_.image_id(alive[j]), slots[j]);
    }
  }
  auto lock = lock_exclusive();
  graph_ = std::move(graph);
  payload_ = std::move(payload);
  slot_of_id_ = std::move(slot_of_id);
  return ok_status();
}

Status EmbeddedIndex::flush() {
  if (options_.directory.empty()) return ok_status();
  std::lock_guard writer(write_mutex_);
  if (!dirty_) return ok_status();
  const std::size_t dead = graph_->size() - static_cast<std::size_t>(payload_.alive_count());
  if (dead >= kCompactMinDead &&
      static_cast<double>(dead) > kCompactFraction * static_cast<double>(graph_->size())) {
    if (auto status = compact(); !status) return status;
  }
  auto lock = lock_shared();
  IndexMeta meta;
  meta.dimension = options_.dimension;
  meta.fingerprint = options_.fingerprint;
  meta.applied_seq = applied_seq_;
  meta.slots = graph_->size();
  meta.alive = payload_.alive_count();
  meta.m = graph_->m();
  meta.ef_construction = graph_->ef_construction();
  const std::int64_t generation = generation_ + 1;
  if (auto status = write_generation(options_.directory, generation, meta, payload_, *graph_);
      !status) {
    return status;
  }
  generation_ = generation;
  dirty_ = false;
  return ok_status();
}

Result<IndexInfo> EmbeddedIndex::info() const {
  auto lock = lock_shared();
  IndexInfo info;
  info.backend = "embedded";
  info.points = payload_.alive_count();
  info.dimension = options_.dimension;
  info.fingerprint = options_.fingerprint;
  info.applied_seq = applied_seq_;
  info.kind = info.points < exact_below_ ? "exact" : "hnsw";
  info.note = note_;
  return info;
}

}  // namespace lookalike::index::embedded

namespace lookalike::index {

Result<std::unique_ptr<VectorIndex>> open_embedded_index(const IndexOptions& options) {
  auto index = embedded::EmbeddedIndex::open(options);
  if (!index) return index.error();
  return std::unique_ptr<VectorIndex>(std::move(*index));
}

}  // namespace lookalike::index
