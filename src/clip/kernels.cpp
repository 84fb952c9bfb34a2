#include "clip/kernels.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace lookalike::clip {

namespace {

// GCC builds each of these for AVX-512, AVX2 and plain x86-64 and picks one when the program
// starts, so one binary is fast on any x86-64 CPU. They stay outside OpenMP regions' bodies.
#define LOOKALIKE_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))

// exp for x ≤ 0 (softmax inputs after subtracting the max): Cody–Waite range reduction and the
// Cephes polynomial, ~1 ulp, written so the compiler vectorises loops over it (std::exp is a
// scalar libm call).
__attribute__((always_inline)) inline float exp_nonpositive(float x) {
  x = x > -87.0f ? x : -87.0f;
  // Round to nearest by adding and removing 1.5·2²³ (no libm call, so the loop vectorises).
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  return p * std::bit_cast<float>((static_cast<std::int32_t>(n) + 127) << 23);
}

// scores[j] = exp(scores[j] - max) for j < n; returns their sum (the softmax denominator).
// Inlined into each attention clone so it is vectorised for that clone's ISA.
__attribute__((always_inline)) inline float exponentiate_scores(float* scores, int n) {
  float max_score = -INFINITY;
#pragma omp simd reduction(max : max_score)
  for (int j = 0; j < n; ++j) max_score = scores[j] > max_score ? scores[j] : max_score;
#pragma omp simd
  for (int j = 0; j < n; ++j) scores[j] = exp_nonpositive(scores[j] - max_score);
  float total = 0.0f;
#pragma omp simd reduction(+ : total)
  for (int j = 0; j < n; ++j) total += scores[j];
  return total;
}

LOOKALIKE_CLONES void layer_norm_row(const float* x, int dim, const float* gamma, const float* beta,
                                     float eps, float* y) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int i = 0; i < dim; ++i) sum += x[i];
  const float mean = sum / static_cast<float>(dim);
  float sq = 0.0f;
#pragma omp simd reduction(+ : sq)
  for (int i = 0; i < dim; ++i) sq += (x[i] - mean) * (x[i] - mean);
  const float inv = 1.0f / std::sqrt(sq / static_cast<float>(dim) + eps);
#pragma omp simd
  for (int i = 0; i < dim; ++i) y[i] = (x[i] - mean) * inv * gamma[i] + beta[i];
}

// Attention of one head of one sequence. Scratch: keys_t [head_dim, length] (this head's keys,
// transposed so a query's scores are computed for all keys at once) and scores [length].
LOOKALIKE_CLONES void attend_head(const float* qkv, const Sequence& seq, int dim, int head_dim,
                                  int head, bool causal, float* keys_t, float* scores, float* out) {
  const std::size_t stride = 3 * static_cast<std::size_t>(dim);
  const int length = seq.length;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const float* base = qkv + static_cast<std::size_t>(seq.first) * stride +
                      static_cast<std::size_t>(head) * head_dim;
  for (int j = 0; j < length; ++j) {
    const float* k = base + j * stride + dim;
    for (int d = 0; d < head_dim; ++d) keys_t[d * length + j] = k[d];
  }
  for (int i = 0; i < length; ++i) {
    const float* q = base + i * stride;
    const int visible = causal ? i + 1 : length;
    std::fill(scores, scores + visible, 0.0f);
    for (int d = 0; d < head_dim; ++d) {
      const float qd = q[d] * scale;
      const float* kd = keys_t + d * length;
#pragma omp simd
      for (int j = 0; j < visible; ++j) scores[j] += qd * kd[j];
    }
    const float total = exponentiate_scores(scores, visible);
    float* o = out + static_cast<std::size_t>(seq.first + i) * dim +
               static_cast<std::size_t>(head) * head_dim;
    std::fill(o, o + head_dim, 0.0f);
    const float inv_total = 1.0f / total;
    for (int j = 0; j < visible; ++j) {
      const float p = scores[j] * inv_total;
      const float* v = base + j * stride + 2 * dim;
#pragma omp simd
      for (int d = 0; d < head_dim; ++d) o[d] += p * v[d];
    }
  }
}

// Sixteen floats: one AVX-512 register, two AVX2 or four SSE registers depending on the clone.
typedef float Vec16 __attribute__((vector_size(64)));

// Always inlined into the per-ISA clones, so the vector-return ABI GCC warns about never applies.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
__attribute__((always_inline)) inline Vec16 load16(const float* p) {
  Vec16 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

__attribute__((always_inline)) inline void store16(float* p, const Vec16& v) {
  std::memcpy(p, &v, sizeof(v));
}

constexpr int kFastHeadDim = 64;  // every released CLIP; other sizes take attend_head()
constexpr int kKeyBlock = 64;     // keys scored together: four registers of accumulators

// attend_head() for head_dim 64 with register blocking: a query's scores for 64 keys live in four
// vector accumulators across the 64-long dot products, and its output row lives in four more
// across the weighted sum. keys_t is [64, padded] with padded a multiple of kKeyBlock.
LOOKALIKE_CLONES void attend_head_64(const float* qkv, const Sequence& seq, int dim, int head,
                                     bool causal, float* keys_t, float* scores, float* out) {
  const std::size_t stride = 3 * static_cast<std::size_t>(dim);
  const int length = seq.length;
  const int padded = (length + kKeyBlock - 1) / kKeyBlock * kKeyBlock;
  const float scale = 0.125f;  // 64^-0.5
  const float* base = qkv + static_cast<std::size_t>(seq.first) * stride +
                      static_cast<std::size_t>(head) * kFastHeadDim;
  for (int j = 0; j < padded; ++j) {
    const float* k = base + j * stride + dim;
    for (int d = 0; d < kFastHeadDim; ++d) keys_t[d * padded + j] = j < length ? k[d] : 0.0f;
  }
  for (int i = 0; i < length; ++i) {
    const float* q = base + i * stride;
    const int visible = causal ? i + 1 : length;
    for (int block = 0; block < visible; block += kKeyBlock) {
      Vec16 a0 = {}, a1 = {}, a2 = {}, a3 = {};
      for (int d = 0; d < kFastHeadDim; ++d) {
        const float qd = q[d] * scale;
        const float* kd = keys_t + d * padded + block;
        a0 += qd * load16(kd);
        a1 += qd * load16(kd + 16);
        a2 += qd * load16(kd + 32);
        a3 += qd * load16(kd + 48);
      }
      store16(scores + block, a0);
      store16(scores + block + 16, a1);
      store16(scores + block + 32, a2);
      store16(scores + block + 48, a3);
    }
    const float total = exponentiate_scores(scores, visible);
    const float inv_total = 1.0f / total;
    Vec16 o0 = {}, o1 = {}, o2 = {}, o3 = {};
    for (int j = 0; j < visible; ++j) {
      const float p = scores[j] * inv_total;
      const float* v = base + j * stride + 2 * dim;
      o0 += p * load16(v);
      o1 += p * load16(v + 16);
      o2 += p * load16(v + 32);
      o3 += p * load16(v + 48);
    }
    float* o = out + static_cast<std::size_t>(seq.first + i) * dim +
               static_cast<std::size_t>(head) * kFastHeadDim;
    store16(o, o0);
    store16(o + 16, o1);
    store16(o + 32, o2);
    store16(o + 48, o3);
  }
}
#pragma GCC diagnostic pop

}  // namespace

void layer_norm(const float* x, int rows, int dim, const float* gamma, const float* beta, float eps,
                float* y) {
#pragma omp parallel for schedule(static) if (rows > 16)
  for (int r = 0; r < rows; ++r) {
    layer_norm_row(x + static_cast<std::size_t>(r) * dim, dim, gamma, beta, eps,
                   y + static_cast<std::size_t>(r) * dim);
  }
}

void attention(const float* qkv, std::span<const Sequence> sequences, int dim, int heads,
               bool causal, float* out) {
  const int head_dim = dim / heads;
  int max_length = 0;
  for (const auto& s : sequences) max_length = std::max(max_length, s.length);
  const int tasks = static_cast<int>(sequences.size()) * heads;
  const int padded = (max_length + kKeyBlock - 1) / kKeyBlock * kKeyBlock;
#pragma omp parallel if (tasks > 1)
  {
    std::vector<float> keys_t(static_cast<std::size_t>(padded) * head_dim);
    std::vector<float> scores(static_cast<std::size_t>(padded));
#pragma omp for schedule(static)
    for (int t = 0; t < tasks; ++t) {
      if (head_dim == kFastHeadDim) {
        attend_head_64(qkv, sequences[t / heads], dim, t % heads, causal, keys_t.data(),
                       scores.data(), out);
      } else {
        attend_head(qkv, sequences[t / heads], dim, head_dim, t % heads, causal, keys_t.data(),
                    scores.data(), out);
      }
    }
  }
}

void layer_norm_naive(const float* x, int rows, int dim, const float* gamma, const float* beta,
                      float eps, float* y) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<std::size_t>(r) * dim;
    double mean = 0.0;
    for (int i = 0; i < dim; ++i) mean += xr[i];
    mean /= dim;
    double var = 0.0;
    for (int i = 0; i < dim; ++i) var += (xr[i] - mean) * (xr[i] - mean);
    var /= dim;
    for (int i = 0; i < dim; ++i) {
      y[static_cast<std::size_t>(r) * dim + i] =
          static_cast<float>((xr[i] - mean) / std::sqrt(var + eps) * gamma[i] + beta[i]);
    }
  }
}

void attention_naive(const float* qkv, std::span<const Sequence> sequences, int dim, int heads,
                     bool causal, float* out) {
  const int head_dim = dim / heads;
  const std::size_t stride = 3 * static_cast<std::size_t>(dim);
  for (const auto& seq : sequences) {
    for (int h = 0; h < heads; ++h) {
      for (int i = 0; i < seq.length; ++i) {
        std::vector<double> p(seq.length, 0.0);
        double max_score = -INFINITY;
        const int visible = causal ? i + 1 : seq.length;
        for (int j = 0; j < visible; ++j) {
          double s = 0.0;
          for (int d = 0; d < head_dim; ++d) {
            s += static_cast<double>(qkv[(seq.first + i) * stride + h * head_dim + d]) *
                 qkv[(seq.first + j) * stride + dim + h * head_dim + d];
          }
          p[j] = s / std::sqrt(static_cast<double>(head_dim));
          max_score = std::max(max_score, p[j]);
        }
        double total = 0.0;
        for (int j = 0; j < visible; ++j) total += (p[j] = std::exp(p[j] - max_score));
        for (int d = 0; d < head_dim; ++d) {
          double acc = 0.0;
          for (int j = 0; j < visible; ++j)
            acc += p[j] / total * qkv[(seq.first + j) * stride + 2 * dim + h * head_dim + d];
          out[static_cast<std::size_t>(seq.first + i) * dim + h * head_dim + d] =
              static_cast<float>(acc);
        }
      }
    }
  }
}

void l2_normalize(float* x, int dim) {
  double norm = 0.0;
  for (int i = 0; i < dim; ++i) norm += static_cast<double>(x[i]) * x[i];
  if (norm <= 0.0) return;
  const auto inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (int i = 0; i < dim; ++i) x[i] *= inv;
}

}  // namespace lookalike::clip
