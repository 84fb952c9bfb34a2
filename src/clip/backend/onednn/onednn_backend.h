// OnednnBackend: matrix products through oneDNN (Debian's libdnnl, JIT kernels for the CPU it
// runs on, OpenMP threads shared with our kernels). Weights are reordered once into the layout
// oneDNN prefers; bias, GELU/quick-GELU and the residual add are fused into the product. In
// bf16 precision the weights are stored as bfloat16 and each input is converted on the way in.
// Thread-safety: linear() and mlp() may run concurrently (the primitive cache is mutex-guarded).
#pragma once

#include <memory>

#include "clip/backend/compute_backend.h"

namespace lookalike::clip {

class OnednnBackend final : public ComputeBackend {
 public:
  explicit OnednnBackend(Precision precision = Precision::kF32);
  ~OnednnBackend() override;
  std::string_view name() const override { return "onednn"; }
  Precision precision() const override { return precision_; }
  std::unique_ptr<PackedWeights> pack(const float* weight, const float* bias, int n,
                                      int k) override;
  void linear(const float* x, int m, const PackedWeights& w, float* y,
              Epilogue epilogue) const override;
  void mlp(const float* x, int m, const PackedWeights& fc1, const PackedWeights& fc2,
           Epilogue activation, float* y) const override;

 private:
  void run(const void* x, bool x_is_f32, int m, const PackedWeights& w, void* y, bool y_is_f32,
           Epilogue epilogue) const;

  struct State;
  Precision precision_;
  std::unique_ptr<State> state_;
};

}  // namespace lookalike::clip
