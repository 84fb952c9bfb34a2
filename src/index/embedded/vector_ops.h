// The inner-product kernel (AVX2 + FMA, which the index module is compiled for) and the scored
// slot both search paths produce. Header-only so the kernel inlines into the scan loops; include
// it only from src/index (other targets are not compiled with -mavx2).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace lookalike::index::embedded {

struct ScoredSlot {
  float score = 0;  // inner product with the query, higher is better
  std::uint32_t slot = 0;
};

// Best first; ties broken by slot so results are deterministic.
inline bool better(const ScoredSlot& a, const ScoredSlot& b) {
  return a.score > b.score || (a.score == b.score && a.slot < b.slot);
}

// Sum of a[i] * b[i] for i < n; no alignment required.
inline float dot(const float* a, const float* b, int n) {
  __m256 s0 = _mm256_setzero_ps();
  __m256 s1 = _mm256_setzero_ps();
  __m256 s2 = _mm256_setzero_ps();
  __m256 s3 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  }
  const __m256 sum = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
  __m128 half = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
  half = _mm_add_ps(half, _mm_movehl_ps(half, half));
  half = _mm_add_ss(half, _mm_movehdup_ps(half));
  float total = _mm_cvtss_f32(half);
  for (; i < n; ++i) total += a[i] * b[i];
  return total;
}

inline void prefetch(const void* address) {
  _mm_prefetch(static_cast<const char*>(address), _MM_HINT_T0);
}

}  // namespace lookalike::index::embedded
