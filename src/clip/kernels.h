// The small operations of the transformer that are ours rather than the backend's: layer norm,
// attention (scores, softmax, weighted sum), embedding sums and L2 normalisation. Each has a
// vectorised inner loop (AVX-512/AVX2 clones chosen at run time) and is checked against a naive
// version in tests/clip/kernels_test.cpp. All parallel loops run on the OpenMP pool.
// Shapes: row-major; "tokens" rows of "dim" floats.
#pragma once

#include <cstddef>
#include <span>

namespace lookalike::clip {

// y[r] = (x[r] - mean) / sqrt(var + eps) * gamma + beta for each of `rows` rows (y may equal x).
void layer_norm(const float* x, int rows, int dim, const float* gamma, const float* beta, float eps,
                float* y);

// One sequence of `length` consecutive token rows, starting at row `first`.
struct Sequence {
  int first = 0;
  int length = 0;
};

// Multi-head self-attention core: qkv is [tokens, 3 * dim] holding q | k | v per row (the fused
// projection), out is [tokens, dim]. Each sequence attends only within itself; causal masks
// future positions. Scores are scaled by head_dim^-0.5.
void attention(const float* qkv, std::span<const Sequence> sequences, int dim, int heads,
               bool causal, float* out);

// Naive single-threaded versions, for tests.
void layer_norm_naive(const float* x, int rows, int dim, const float* gamma, const float* beta,
                      float eps, float* y);
void attention_naive(const float* qkv, std::span<const Sequence> sequences, int dim, int heads,
                     bool causal, float* out);

// x[i] /= ||x||₂ for one vector (left as is when its norm is 0).
void l2_normalize(float* x, int dim);

}  // namespace lookalike::clip
