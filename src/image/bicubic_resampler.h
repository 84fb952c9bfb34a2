// Pillow-exact resizing: the antialiased separable convolution of Pillow's libImaging/Resample.c
// (Image.resize with BICUBIC and the other convolution filters), integer arithmetic included, so
// the pixels match the CLIP reference bit for bit.
// Thread-safety: stateless functions; ResampleKernel is immutable after construction.
#pragma once

#include <cstdint>
#include <vector>

#include "image/rgb_image.h"

namespace lookalike::image {

// Pillow's numbering (PIL.Image.Resampling), as stored in preprocessor_config.json "resample".
enum class ResampleFilter {
  kNearest = 0,  // not a convolution; not supported by this resampler
  kLanczos = 1,
  kBilinear = 2,
  kBicubic = 3,
  kBox = 4,
  kHamming = 5,
};

// The fixed-point weights of one axis (Pillow's precompute_coeffs + normalize_coeffs_8bpc): output
// pixel out_begin + i reads count(i) input pixels from first(i), weighted by weights(i) (scaled by
// 2^kPrecisionBits).
class ResampleKernel {
 public:
  static constexpr int kPrecisionBits = 32 - 8 - 2;

  // Weights for output indices [out_begin, out_begin + out_count) of an in_size → out_size resize
  // (all of them by default). `filter` must not be kNearest; sizes must be positive.
  ResampleKernel(int in_size, int out_size, ResampleFilter filter, int out_begin = 0,
                 int out_count = -1);

  int in_size() const { return in_size_; }
  int out_size() const { return out_size_; }
  int out_begin() const { return out_begin_; }
  int out_count() const { return out_count_; }
  int kernel_size() const { return kernel_size_; }
  int first(int i) const { return bounds_[2 * i]; }
  int count(int i) const { return bounds_[2 * i + 1]; }
  const std::int32_t* weights(int i) const {
    return weights_.data() + static_cast<std::size_t>(i) * kernel_size_;
  }

 private:
  int in_size_;
  int out_size_;
  int out_begin_;
  int out_count_;
  int kernel_size_ = 0;
  std::vector<int> bounds_;
  std::vector<std::int32_t> weights_;
};

// Pillow `Image.resize((width, height), resample=BICUBIC)` on an RGB image.
RgbImage resize_bicubic(const RgbImage& src, int width, int height);
// Same, with any of Pillow's convolution filters (everything but kNearest).
RgbImage resize_pillow(const RgbImage& src, int width, int height, ResampleFilter filter);

// A rectangle of the resized image, in its coordinates.
struct ResizeWindow {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
};

// Exactly `center_crop`-style window [x, x+width) × [y, y+height) of resize_pillow(src, width,
// height, filter), computing only those pixels: memory and time scale with the window, not with
// the (possibly huge, for extreme aspect ratios) full resize. The window must lie inside.
RgbImage resize_pillow_window(const RgbImage& src, int width, int height, ResampleFilter filter,
                              const ResizeWindow& window);

}  // namespace lookalike::image
