#include "clip/backend/reference/reference_backend.h"

#include <cmath>
#include <vector>

namespace lookalike::clip {

namespace {

class PlainWeights final : public PackedWeights {
 public:
  PlainWeights(const float* weight, const float* bias, int n, int k)
      : n_(n),
        k_(k),
        weight_(weight, weight + static_cast<std::size_t>(n) * k),
        bias_(bias != nullptr ? std::vector<float>(bias, bias + n) : std::vector<float>(n, 0.0f)) {}
  int out_features() const override { return n_; }
  int in_features() const override { return k_; }
  std::size_t bytes() const override { return (weight_.size() + bias_.size()) * sizeof(float); }

  int n_;
  int k_;
  std::vector<float> weight_;
  std::vector<float> bias_;
};

}  // namespace

std::unique_ptr<PackedWeights> ReferenceBackend::pack(const float* weight, const float* bias, int n,
                                                      int k) {
  return std::make_unique<PlainWeights>(weight, bias, n, k);
}

void ReferenceBackend::linear(const float* x, int m, const PackedWeights& packed, float* y,
                              Epilogue epilogue) const {
  const auto& w = static_cast<const PlainWeights&>(packed);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < w.n_; ++j) {
      double acc = w.bias_[j];
      const float* xr = x + static_cast<std::size_t>(i) * w.k_;
      const float* wr = w.weight_.data() + static_cast<std::size_t>(j) * w.k_;
      for (int p = 0; p < w.k_; ++p) acc += static_cast<double>(xr[p]) * wr[p];
      float& out = y[static_cast<std::size_t>(i) * w.n_ + j];
      switch (epilogue) {
        case Epilogue::kNone:
          out = static_cast<float>(acc);
          break;
        case Epilogue::kQuickGelu:
          out = static_cast<float>(acc / (1.0 + std::exp(-1.702 * acc)));
          break;
        case Epilogue::kGelu:
          out = static_cast<float>(0.5 * acc * (1.0 + std::erf(acc / std::sqrt(2.0))));
          break;
        case Epilogue::kAccumulate:
          out = static_cast<float>(out + acc);
          break;
      }
    }
  }
}

}  // namespace lookalike::clip
