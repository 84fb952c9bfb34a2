// Element types of safetensors tensors and conversions to float32 (the compute type).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace lookalike::clip {

enum class DType { kF32, kF16, kBF16, kI64, kI32 };

std::optional<DType> parse_dtype(std::string_view name);  // "F32", "F16", "BF16", "I64", "I32"
std::string_view dtype_name(DType dtype);
std::size_t dtype_size(DType dtype);
bool is_float(DType dtype);

float f16_to_f32(std::uint16_t bits);
float bf16_to_f32(std::uint16_t bits);
std::uint16_t f32_to_f16(float value);   // round to nearest even
std::uint16_t f32_to_bf16(float value);  // round to nearest even

// Converts n elements of a float dtype (F32/F16/BF16) at `src` (any alignment) to float32.
void convert_to_f32(DType dtype, const void* src, std::size_t n, float* dst);

}  // namespace lookalike::clip
