// Synthetic embeddings for benchmarks: clustered (a Gaussian mixture of a few thousand centres,
// noise 0.8 of the centre scale: cosine to a neighbour ~0.6, like CLIP image embeddings) or
// uniform (random directions, the worst case for HNSW). Points get one of ten categories
// ("category-N"), a price four times out of five, and three images per product.
#pragma once

#include <cstdint>
#include <vector>

#include "index/vector_index.h"

namespace lookalike::apps {

struct SyntheticSpec {
  int points = 200000;  // size of the whole set (sets the number of clusters)
  int dim = 512;
  bool clustered = true;
};

// `count` L2-normalised points with ids 1..count, reproducible from (spec, seed).
std::vector<index::Point> synthetic_points(const SyntheticSpec& spec, int count,
                                           std::uint64_t seed);

}  // namespace lookalike::apps
