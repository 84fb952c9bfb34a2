#include "clip/weight_reader.h"

#include <cstdint>

namespace lookalike::clip {

Result<std::vector<float>> WeightReader::tensor(const std::string& name,
                                                const std::vector<std::int64_t>& shape) const {
  auto info = file_.require(name, shape);
  if (!info) return info.error();
  auto values = file_.to_f32(**info);
  file_.release(**info);
  return values;
}

Result<const float*> WeightReader::tensor_view(const std::string& name,
                                               const std::vector<std::int64_t>& shape,
                                               std::vector<float>& storage) const {
  auto info = file_.require(name, shape);
  if (!info) return info.error();
  const std::uint8_t* bytes = file_.data(**info);
  if ((*info)->dtype == DType::kF32 &&
      reinterpret_cast<std::uintptr_t>(bytes) % alignof(float) == 0) {
    storage.clear();
    return reinterpret_cast<const float*>(bytes);
  }
  storage = file_.to_f32(**info);
  file_.release(**info);
  return storage.data();
}

Status WeightReader::read_into(const std::vector<NamedTensor>& tensors) const {
  for (const auto& [field, name, shape] : tensors) {
    auto values = tensor(name, shape);
    if (!values) return values.error();
    *field = std::move(values).value();
  }
  return ok_status();
}

Result<std::unique_ptr<PackedWeights>> WeightReader::linear(const std::string& prefix, int n, int k,
                                                            bool has_bias) const {
  std::vector<float> bias;
  if (has_bias) {
    auto b = tensor(prefix + ".bias", {n});
    if (!b) return b.error();
    bias = std::move(b).value();
  }
  // F32 weights are packed straight from the mapping; other types go through a float32 copy.
  std::vector<float> storage;
  auto weight = tensor_view(prefix + ".weight", {n, k}, storage);
  if (!weight) return weight.error();
  auto packed = backend_.pack(*weight, has_bias ? bias.data() : nullptr, n, k);
  file_.release(*file_.find(prefix + ".weight"));
  return packed;
}

Result<std::unique_ptr<PackedWeights>> WeightReader::stacked_linear(
    const std::vector<std::string>& prefixes, int n, int k) const {
  std::vector<float> weight;
  std::vector<float> bias;
  weight.reserve(prefixes.size() * n * k);
  bias.reserve(prefixes.size() * n);
  for (const auto& prefix : prefixes) {
    auto w = tensor(prefix + ".weight", {n, k});
    if (!w) return w.error();
    auto b = tensor(prefix + ".bias", {n});
    if (!b) return b.error();
    weight.insert(weight.end(), w->begin(), w->end());
    bias.insert(bias.end(), b->begin(), b->end());
  }
  return backend_.pack(weight.data(), bias.data(), static_cast<int>(prefixes.size()) * n, k);
}

}  // namespace lookalike::clip
