#include "index/embedded/filtered_hnsw_search.h"

#include <algorithm>
#include <cstdint>
#include <queue>

namespace lookalike::index::embedded {

namespace {

// Visited marks for one search: a slot is visited when its tag equals the current one, so
// starting a search is O(1) except every 65535th time.
class VisitedSet {
 public:
  void begin(std::size_t slots) {
    if (tags_.size() < slots) tags_.resize(slots, 0);
    if (++current_ == 0) {
      std::fill(tags_.begin(), tags_.end(), 0);
      current_ = 1;
    }
  }
  // Marks the slot; returns whether it was already marked.
  bool test_and_set(std::uint32_t slot) {
    if (tags_[slot] == current_) return true;
    tags_[slot] = current_;
    return false;
  }
  const void* address(std::uint32_t slot) const { return tags_.data() + slot; }

 private:
  std::vector<std::uint16_t> tags_;
  std::uint16_t current_ = 0;
};

struct WorseFirst {
  bool operator()(const ScoredSlot& a, const ScoredSlot& b) const { return better(a, b); }
};
struct BestFirst {
  bool operator()(const ScoredSlot& a, const ScoredSlot& b) const { return better(b, a); }
};

}  // namespace

HnswSearchResult filtered_hnsw_search(const GraphView& graph, const PayloadTable& payload,
                                      const CompiledFilter& filter, const float* query,
                                      std::size_t ef) {
  HnswSearchResult out;
  if (graph.count == 0 || ef == 0 || filter.matches_nothing) return out;
  const int dim = graph.dimension;

  // Upper levels: greedy walk towards the query (deleted slots still route).
  std::uint32_t current = graph.entry_point;
  float current_score = dot(query, graph.vector(current), dim);
  for (int level = graph.max_level; level > 0; --level) {
    for (bool moved = true; moved;) {
      moved = false;
      for (std::uint32_t next : graph.neighbours(current, level)) {
        const float score = dot(query, graph.vector(next), dim);
        if (score > current_score) {
          current_score = score;
          current = next;
          moved = true;
        }
      }
    }
  }

  thread_local VisitedSet visited;
  visited.begin(graph.count);
  std::priority_queue<ScoredSlot, std::vector<ScoredSlot>, WorseFirst> results;  // worst on top
  std::priority_queue<ScoredSlot, std::vector<ScoredSlot>, BestFirst> frontier;  // best on top
  visited.test_and_set(current);
  frontier.push({current_score, current});
  if (payload.matches(current, filter)) results.push({current_score, current});

  while (!frontier.empty()) {
    const ScoredSlot node = frontier.top();
    if (results.size() == ef && node.score < results.top().score) break;
    frontier.pop();
    const auto links = graph.neighbours(node.slot, 0);
    for (std::size_t j = 0; j < links.size(); ++j) {
      if (j + 1 < links.size()) {
        prefetch(visited.address(links[j + 1]));
        prefetch(graph.vector(links[j + 1]));
      }
      const std::uint32_t next = links[j];
      if (visited.test_and_set(next)) continue;
      const float score = dot(query, graph.vector(next), dim);
      if (results.size() < ef || score > results.top().score) {
        frontier.push({score, next});
        if (payload.matches(next, filter)) {
          results.push({score, next});
          if (results.size() > ef) results.pop();
        }
      }
    }
  }
  out.exhausted = results.size() < ef;  // the walk ran out before finding ef matches

  out.hits.resize(results.size());
  for (std::size_t i = out.hits.size(); i-- > 0;) {
    out.hits[i] = results.top();
    results.pop();
  }
  return out;
}

}  // namespace lookalike::index::embedded
