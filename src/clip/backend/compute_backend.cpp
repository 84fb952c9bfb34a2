#include "clip/backend/compute_backend.h"

#include "clip/backend/onednn/onednn_backend.h"
#include "clip/backend/reference/reference_backend.h"

namespace lookalike::clip {

void ComputeBackend::mlp(const float* x, int m, const PackedWeights& fc1, const PackedWeights& fc2,
                         Epilogue activation, float* y) const {
  std::vector<float> hidden(static_cast<std::size_t>(m) * fc1.out_features());
  linear(x, m, fc1, hidden.data(), activation);
  linear(hidden.data(), m, fc2, y, Epilogue::kAccumulate);
}

std::vector<std::string> compute_backend_names() { return {"onednn", "reference"}; }

std::string_view precision_name(Precision precision) {
  return precision == Precision::kBF16 ? "bf16" : "f32";
}

Result<Precision> parse_precision(std::string_view name) {
  if (name == "f32") return Precision::kF32;
  if (name == "bf16") return Precision::kBF16;
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown precision '" + std::string(name) + "' (f32, bf16)");
}

Result<std::unique_ptr<ComputeBackend>> make_compute_backend(std::string_view name,
                                                             Precision precision) {
  if (name == "onednn" || name.empty())
    return std::unique_ptr<ComputeBackend>(new OnednnBackend(precision));
  if (name == "reference") {
    if (precision != Precision::kF32) {
      return make_error(ErrorCode::kInvalidArgument, "the reference backend computes in f32 only");
    }
    return std::unique_ptr<ComputeBackend>(new ReferenceBackend());
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown compute backend '" + std::string(name) + "' (onednn, reference)");
}

}  // namespace lookalike::clip
