// ReferenceBackend: the plainest possible matrix product (double accumulation, no blocking).
// Slow on purpose: it is the yardstick the fast backends and kernels are tested against.
// Thread-safety: linear() is const and may run concurrently.
#pragma once

#include "clip/backend/compute_backend.h"

namespace lookalike::clip {

class ReferenceBackend final : public ComputeBackend {
 public:
  std::string_view name() const override { return "reference"; }
  Precision precision() const override { return Precision::kF32; }
  std::unique_ptr<PackedWeights> pack(const float* weight, const float* bias, int n,
                                      int k) override;
  void linear(const float* x, int m, const PackedWeights& w, float* y,
              Epilogue epilogue) const override;
};

}  // namespace lookalike::clip
