#include "clip/kernels.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace lookalike::clip {

namespace {

// GCC builds each of these for AVX-512, AVX2 and plain x86-64 and picks one when the program
// starts, so one binary is fast on any x86-64 CPU. They stay outside OpenMP regions' bodies.
#define LOOKALIKE_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))

LOOKALIKE_CLONES float dot(const float* a, const float* b, int n) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

LOOKALIKE_CLONES void axpy(float alpha, const float* x, float* y, int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) y[i] += alpha * x[i];
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

// Attention of one head of one sequence; scores is scratch of length `length`.
void attend_head(const float* qkv, const Sequence& seq, int dim, int head_dim, int head,
                 bool causal, float* scores, float* out) {
  const std::size_t stride = 3 * static_cast<std::size_t>(dim);
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const float* base = qkv + static_cast<std::size_t>(seq.first) * stride +
                      static_cast<std::size_t>(head) * head_dim;
  for (int i = 0; i < seq.length; ++i) {
    const float* q = base + i * stride;
    const int visible = causal ? i + 1 : seq.length;
    float max_score = -INFINITY;
    for (int j = 0; j < visible; ++j) {
      scores[j] = dot(q, base + j * stride + dim, head_dim) * scale;
      max_score = std::max(max_score, scores[j]);
    }
    float total = 0.0f;
    for (int j = 0; j < visible; ++j) {
      scores[j] = std::exp(scores[j] - max_score);
      total += scores[j];
    }
    float* o = out + static_cast<std::size_t>(seq.first + i) * dim +
               static_cast<std::size_t>(head) * head_dim;
    std::fill(o, o + head_dim, 0.0f);
    const float inv_total = 1.0f / total;
    for (int j = 0; j < visible; ++j)
      axpy(scores[j] * inv_total, base + j * stride + 2 * dim, o, head_dim);
  }
}

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
#pragma omp parallel if (tasks > 1)
  {
    std::vector<float> scores(static_cast<std::size_t>(max_length));
#pragma omp for schedule(static)
    for (int t = 0; t < tasks; ++t) {
      attend_head(qkv, sequences[t / heads], dim, head_dim, t % heads, causal, scores.data(), out);
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
