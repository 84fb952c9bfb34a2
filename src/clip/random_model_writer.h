// Writes a random-weight CLIP model directory with the same config, tensor names, shapes and
// tokenizer files as a real one (`lookalike model init-random`). Real weights cannot be fetched
// here, so full-size random models are how speed and memory are measured. The config is marked
// `"lookalike_test_model": true` and every tool that loads it says so: its embeddings mean nothing.
#pragma once

#include <cstdint>
#include <filesystem>

#include "clip/dtype.h"
#include "core/result.h"

namespace lookalike::clip {

struct RandomModelOptions {
  std::filesystem::path like;  // a model directory (config.json, vocab.json, merges.txt, ...)
  std::filesystem::path out;   // created; existing files of the same names are replaced
  std::uint64_t seed = 0;
  DType dtype = DType::kF32;  // F32, F16 or BF16
};

Status write_random_model(const RandomModelOptions& options);

}  // namespace lookalike::clip
