#include "index/embedded/exact_scan.h"

#include <omp.h>

#include <algorithm>

namespace lookalike::index::embedded {

namespace {

// Below this many multiply-adds one thread is faster than waking the pool.
constexpr std::size_t kParallelWork = std::size_t{1} << 20;

// The k best seen so far: a heap with the worst on top.
class TopK {
 public:
  explicit TopK(std::size_t k) : k_(k) { heap_.reserve(k + 1); }

  void push(float score, std::uint32_t slot) {
    const ScoredSlot item{score, slot};
    if (heap_.size() == k_) {
      if (!better(item, heap_.front())) return;
      std::pop_heap(heap_.begin(), heap_.end(), better);
      heap_.back() = item;
    } else {
      heap_.push_back(item);
    }
    std::push_heap(heap_.begin(), heap_.end(), better);
  }
  std::vector<ScoredSlot>& items() { return heap_; }

 private:
  std::size_t k_;
  std::vector<ScoredSlot> heap_;
};

void prefetch_vector(const float* vector, int dimension) {
  const char* bytes = reinterpret_cast<const char*>(vector);
  const std::size_t size = static_cast<std::size_t>(dimension) * sizeof(float);
  for (std::size_t offset = 0; offset < size; offset += 64) prefetch(bytes + offset);
}

void scan_range(const GraphView& graph, const PayloadTable& payload, const CompiledFilter& filter,
                const float* query, float min_score, std::uint32_t begin, std::uint32_t end,
                TopK& top) {
  const int dim = graph.dimension;
  if (filter.any()) {  // sequential: the hardware prefetcher keeps up
    for (std::uint32_t slot = begin; slot < end; ++slot) {
      if (!payload.alive(slot)) continue;
      const float score = dot(query, graph.vector(slot), dim);
      if (score >= min_score) top.push(score, slot);
    }
    return;
  }
  // Matching slots are scattered: gather a batch, then score it fetching two vectors ahead.
  constexpr std::size_t kBatch = 128;
  constexpr std::size_t kAhead = 2;
  std::uint32_t batch[kBatch];
  for (std::uint32_t slot = begin; slot < end;) {
    std::size_t n = 0;
    for (; slot < end && n < kBatch; ++slot) {
      if (payload.matches(slot, filter)) batch[n++] = slot;
    }
    for (std::size_t i = 0; i < std::min(n, kAhead); ++i) {
      prefetch_vector(graph.vector(batch[i]), dim);
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) prefetch_vector(graph.vector(batch[i + kAhead]), dim);
      const float score = dot(query, graph.vector(batch[i]), dim);
      if (score >= min_score) top.push(score, batch[i]);
    }
  }
}

}  // namespace

std::vector<ScoredSlot> exact_scan(const GraphView& graph, const PayloadTable& payload,
                                   const CompiledFilter& filter, const float* query, std::size_t k,
                                   float min_score) {
  if (k == 0 || graph.count == 0 || filter.matches_nothing) return {};
  const std::uint32_t n = graph.count;
  const std::size_t work = static_cast<std::size_t>(n) * static_cast<std::size_t>(graph.dimension);
  const int threads = work >= kParallelWork ? omp_get_max_threads() : 1;
  std::vector<ScoredSlot> merged;
  if (threads <= 1) {
    TopK top(k);
    scan_range(graph, payload, filter, query, min_score, 0, n, top);
    merged = std::move(top.items());
  } else {
    std::vector<std::vector<ScoredSlot>> partial(static_cast<std::size_t>(threads));
#pragma omp parallel num_threads(threads)
    {
      const auto t = static_cast<std::uint32_t>(omp_get_thread_num());
      const auto nt = static_cast<std::uint32_t>(omp_get_num_threads());
      const std::uint32_t chunk = (n + nt - 1) / nt;
      const std::uint32_t begin = std::min(n, t * chunk);
      const std::uint32_t end = std::min(n, begin + chunk);
      TopK top(k);
      scan_range(graph, payload, filter, query, min_score, begin, end, top);
      partial[t] = std::move(top.items());
    }
    for (auto& part : partial) merged.insert(merged.end(), part.begin(), part.end());
  }
  std::sort(merged.begin(), merged.end(), better);
  if (merged.size() > k) merged.resize(k);
  return merged;
}

}  // namespace lookalike::index::embedded
