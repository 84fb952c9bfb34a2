// WeightReader: reads named tensors of a model's safetensors file, checks each against the shape
// the config implies, converts to float32 and hands linear layers to the backend for packing.
// Pages of tensors that were copied are released from the resident set as soon as they are packed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "clip/backend/compute_backend.h"
#include "clip/safetensors_file.h"

namespace lookalike::clip {

// A float tensor to read into `field`, checked to have `shape`.
struct NamedTensor {
  std::vector<float>* field;
  std::string name;
  std::vector<std::int64_t> shape;
};

class WeightReader {
 public:
  WeightReader(const SafetensorsFile& file, ComputeBackend& backend)
      : file_(file), backend_(backend) {}

  // A float tensor of exactly `shape`, as float32.
  Result<std::vector<float>> tensor(const std::string& name,
                                    const std::vector<std::int64_t>& shape) const;

  // A float tensor of exactly `shape` as float32 without copying when the file holds it as
  // aligned F32 (the pointer is into the mapping, which must outlive its use); otherwise
  // converted into `storage`, which the pointer then refers to.
  Result<const float*> tensor_view(const std::string& name, const std::vector<std::int64_t>& shape,
                                   std::vector<float>& storage) const;

  // Reads each tensor into its field; stops at the first error.
  Status read_into(const std::vector<NamedTensor>& tensors) const;

  // The Linear layer `<prefix>.weight` [n, k] (+ `<prefix>.bias` [n] when has_bias), packed.
  Result<std::unique_ptr<PackedWeights>> linear(const std::string& prefix, int n, int k,
                                                bool has_bias) const;

  // Several Linear layers with the same input, stacked along n into one (q, k, v → qkv).
  Result<std::unique_ptr<PackedWeights>> stacked_linear(const std::vector<std::string>& prefixes,
                                                        int n, int k) const;

  ComputeBackend& backend() const { return backend_; }

 private:
  const SafetensorsFile& file_;
  ComputeBackend& backend_;
};

}  // namespace lookalike::clip
