#include "apps/synthetic_points.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace lookalike::apps {

namespace {

// splitmix64 + Box-Muller: fast, reproducible per (seed, index) so generation can be parallel.
struct Rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  float normal() {
    const double u = std::max(uniform(), 1e-300);
    return static_cast<float>(std::sqrt(-2.0 * std::log(u)) *
                              std::cos(6.283185307179586 * uniform()));
  }
};

}  // namespace

std::vector<index::Point> synthetic_points(const SyntheticSpec& o, int count, std::uint64_t seed) {
  const bool clustered = o.clustered;
  const int clusters = std::max(1, std::min(4000, o.points / 50));
  std::vector<float> centres(static_cast<std::size_t>(clusters) * o.dim);
  Rng centre_rng{12345};
  for (float& v : centres) v = centre_rng.normal();
  std::vector<index::Point> points(static_cast<std::size_t>(count));
#pragma omp parallel for schedule(static)
  for (int i = 0; i < count; ++i) {
    Rng rng{seed * 0x100000001B3ull + static_cast<std::uint64_t>(i)};
    index::Point& p = points[static_cast<std::size_t>(i)];
    p.id = i + 1;
    p.vector.resize(static_cast<std::size_t>(o.dim));
    const float* centre = centres.data() + (rng.next() % clusters) * o.dim;
    double norm = 0;
    for (int d = 0; d < o.dim; ++d) {
      const float v = clustered ? centre[d] + 0.8f * rng.normal() : rng.normal();
      p.vector[d] = v;
      norm += static_cast<double>(v) * v;
    }
    for (float& v : p.vector) v = static_cast<float>(v / std::sqrt(norm));
    p.payload.product_id = i / 3 + 1;
    p.payload.category = "category-" + std::to_string(rng.next() % 10);
    if (rng.next() % 5 != 0) p.payload.price_cents = static_cast<std::int64_t>(rng.next() % 100000);
  }
  return points;
}

}  // namespace lookalike::apps
