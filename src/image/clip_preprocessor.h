// ClipPreprocessor: RGB pixels → the CHW float32 tensor the CLIP vision tower reads, exactly as
// Hugging Face CLIPImageProcessor with Pillow computes it (shortest-edge resize, center crop,
// rescale, normalise). Only the cropped window of the resize is computed.
// Thread-safety: immutable after construction; share one instance across threads.
#pragma once

#include <array>
#include <vector>

#include "image/bicubic_resampler.h"
#include "image/preprocess_config.h"
#include "image/rgb_image.h"

namespace lookalike::image {

class ClipPreprocessor {
 public:
  // `config` must come from PreprocessConfig::from_json/load (or be equally valid).
  explicit ClipPreprocessor(PreprocessConfig config);

  const PreprocessConfig& config() const { return config_; }
  // The tensor's spatial size (crop_size); 0 when it depends on the input (no center crop).
  int output_width() const;
  int output_height() const;

  // HF get_resize_output_image_size(default_to_square=False): the resized width × height.
  std::array<int, 2> resized_size(int width, int height) const;

  // The pixels the tower sees (resize + center crop), e.g. to save with --png.
  RgbImage resize_and_crop(const RgbImage& image) const;
  // Rescale + normalise `cropped` into 3 * height * width floats, channel-major (CHW).
  void to_tensor(const RgbImage& cropped, float* out_chw) const;
  // Both steps.
  std::vector<float> preprocess(const RgbImage& image) const;

 private:
  PreprocessConfig config_;
  // The normalised value of every 8-bit sample, per channel (float32 arithmetic as numpy does it).
  std::array<std::array<float, 256>, 3> lut_{};
};

}  // namespace lookalike::image
