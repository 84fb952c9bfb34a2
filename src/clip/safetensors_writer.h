// Writes a `.safetensors` file (used by `model init-random` and by tests that build corrupt or
// tiny models). Tensors are written in the order given, 8-byte aligned header as the format allows.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "clip/dtype.h"
#include "core/result.h"

namespace lookalike::clip {

struct TensorData {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> bytes;  // little-endian elements, numel * dtype_size bytes
};

// Converts float32 values to `dtype` bytes (F32/F16/BF16).
std::vector<std::uint8_t> encode_floats(const std::vector<float>& values, DType dtype);

// Writes the file atomically (temp file + rename).
Status write_safetensors(const std::filesystem::path& path, const std::vector<TensorData>& tensors,
                         const std::map<std::string, std::string>& metadata = {});

}  // namespace lookalike::clip
