// Filter-aware HNSW search over hnswlib's graph (the algorithm hnswlib 0.7 adopted): greedy
// descent through the upper levels, then a level-0 beam search that expands every neighbour
// (deleted and non-matching slots still route) but admits to the result set only alive slots
// passing the filter, so it walks until `ef` matching points are found or the reachable graph is
// exhausted. A filter keeping a fraction s of the points costs roughly 1/s unfiltered searches;
// the planner scans selective filters exactly instead.
//
// Shapes: query has graph.dimension floats; at most ef results, best first.
// Thread-safety: reads only (a thread-local visited set); callers exclude writers.
#pragma once

#include <cstddef>
#include <vector>

#include "index/embedded/hnsw_graph.h"
#include "index/embedded/payload_table.h"
#include "index/embedded/vector_ops.h"

namespace lookalike::index::embedded {

struct HnswSearchResult {
  std::vector<ScoredSlot> hits;  // best first
  bool exhausted = false;        // every slot reachable from the entry point was visited
};

HnswSearchResult filtered_hnsw_search(const GraphView& graph, const PayloadTable& payload,
                                      const CompiledFilter& filter, const float* query,
                                      std::size_t ef);

}  // namespace lookalike::index::embedded
