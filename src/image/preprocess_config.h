// PreprocessConfig: the CLIPImageProcessor settings of a model's `preprocessor_config.json`
// (resize, center crop, rescale, normalise). Missing keys take transformers' CLIPImageProcessor
// defaults; malformed or out-of-range values are errors naming the key.
// Thread-safety: a plain value type.
#pragma once

#include <array>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "image/bicubic_resampler.h"

namespace lookalike::image {

struct PreprocessConfig {
  bool do_convert_rgb = true;  // decoded images are always RGB; kept for fidelity/fingerprint

  bool do_resize = true;
  // Resize so the shortest edge is this long (HF size {"shortest_edge": N}) ...
  int shortest_edge = 224;
  // ... or, when shortest_edge is 0, to exactly resize_width × resize_height (HF
  // {"height","width"}).
  int resize_width = 0;
  int resize_height = 0;
  ResampleFilter resample = ResampleFilter::kBicubic;

  bool do_center_crop = true;
  int crop_width = 224;
  int crop_height = 224;

  bool do_rescale = true;
  double rescale_factor = 1.0 / 255.0;

  bool do_normalize = true;
  std::array<double, 3> image_mean = {0.48145466, 0.4578275, 0.40821073};  // OPENAI_CLIP_MEAN
  std::array<double, 3> image_std = {0.26862954, 0.26130258, 0.27577711};  // OPENAI_CLIP_STD

  // Parses a preprocessor_config.json object. Errors (kInvalidArgument) name the offending key.
  static Result<PreprocessConfig> from_json(const nlohmann::json& json);
  // Reads model_dir/preprocessor_config.json.
  static Result<PreprocessConfig> load(const std::filesystem::path& model_dir);

  // The settings as canonical JSON (sorted keys, every field explicit).
  nlohmann::json to_json() const;
  // sha256 (hex) of to_json() plus the algorithm version: equal fingerprints mean equal tensors.
  std::string fingerprint() const;

  bool operator==(const PreprocessConfig&) const = default;
};

}  // namespace lookalike::image
