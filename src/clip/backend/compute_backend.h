// ComputeBackend: the one interface between the CLIP forward pass and whatever multiplies
// matrices. A backend packs each weight matrix once at load (into its preferred layout) and then
// runs y = act(x · Wᵀ + b) [+ y] on it. Backends: "onednn" (default, fast), "reference" (naive
// loops, the yardstick tests compare against). bf16/int8/CUDA backends plug in here.
// Thread-safety: pack() at load time from one thread; linear() may be called concurrently.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace lookalike::clip {

// The number format of the matrix products. Accumulation is always float32; kBF16 rounds weights
// and the products' inputs to bfloat16 (about 2x faster on CPUs with AVX512-BF16, embeddings
// within ~1e-3 cosine of float32). The residual stream and the small ops stay float32.
enum class Precision { kF32, kBF16 };

// What happens to x · Wᵀ + b before it is stored.
enum class Epilogue {
  kNone,
  kQuickGelu,   // v · sigmoid(1.702 v)
  kGelu,        // exact erf GELU
  kAccumulate,  // y += v (residual connections)
};

// A weight matrix W of shape [out_features, in_features] (PyTorch Linear layout) plus an optional
// bias, in the backend's own layout. Immutable once packed.
class PackedWeights {
 public:
  virtual ~PackedWeights() = default;
  virtual int out_features() const = 0;
  virtual int in_features() const = 0;
  virtual std::size_t bytes() const = 0;
};

class ComputeBackend {
 public:
  virtual ~ComputeBackend() = default;
  virtual std::string_view name() const = 0;
  virtual Precision precision() const = 0;

  // weight: [n, k] row-major float32; bias: [n] or nullptr. Copies what it needs.
  virtual std::unique_ptr<PackedWeights> pack(const float* weight, const float* bias, int n,
                                              int k) = 0;

  // y[m, n] = epilogue(x[m, k] · Wᵀ + b). x and y are dense row-major and must not overlap.
  virtual void linear(const float* x, int m, const PackedWeights& w, float* y,
                      Epilogue epilogue) const = 0;

  // The transformer's MLP: y[m, n] += fc2(activation(fc1(x))). The default runs two linear()
  // calls through a float32 buffer; a backend may keep the wide hidden activation in its own
  // format (the bf16 backend does, which saves converting it back and forth).
  virtual void mlp(const float* x, int m, const PackedWeights& fc1, const PackedWeights& fc2,
                   Epilogue activation, float* y) const;
};

std::string_view precision_name(Precision precision);
Result<Precision> parse_precision(std::string_view name);  // "f32", "bf16"

// Known backend names, the first being the default.
std::vector<std::string> compute_backend_names();

// Makes a backend by name ("onednn", "reference"). The reference backend is float32 only.
Result<std::unique_ptr<ComputeBackend>> make_compute_backend(std::string_view name,
                                                             Precision precision = Precision::kF32);

}  // namespace lookalike::clip
