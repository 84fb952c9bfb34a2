// Exact top-K by inner product over the vectors stored in the graph's level-0 memory, evaluating
// the filter per slot before touching its vector. Parallel (OpenMP) once the scan is large.
//
// Shapes: query has graph.dimension floats; the result has at most k entries, best first.
// Thread-safety: reads only; callers exclude writers.
#pragma once

#include <cstddef>
#include <vector>

#include "index/embedded/hnsw_graph.h"
#include "index/embedded/payload_table.h"
#include "index/embedded/vector_ops.h"

namespace lookalike::index::embedded {

// Alive slots passing `filter` with score >= min_score: the best k.
std::vector<ScoredSlot> exact_scan(const GraphView& graph, const PayloadTable& payload,
                                   const CompiledFilter& filter, const float* query, std::size_t k,
                                   float min_score);

}  // namespace lookalike::index::embedded
