#include "image/clip_preprocessor.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "image/center_crop.h"

namespace lookalike::image {
namespace {

// One axis of HF center_crop: a larger source is cut at (src - crop) / 2 (floor); a smaller one
// lands at ceil((crop - src) / 2) in a zero-padded result.
struct CropAxis {
  int src_begin;
  int dst_begin;
  int length;
};

CropAxis crop_axis(int src, int crop) {
  if (src >= crop) return {(src - crop) / 2, 0, crop};
  return {0, (crop - src + 1) / 2, src};
}

}  // namespace

ClipPreprocessor::ClipPreprocessor(PreprocessConfig config) : config_(std::move(config)) {
  // The reference computes float32(x) * float32(rescale_factor), then (x - float32(mean)) /
  // float32(std), all in float32; each step is a separate rounding.
  const float factor = static_cast<float>(config_.rescale_factor);
  for (int c = 0; c < 3; ++c) {
    const float mean = static_cast<float>(config_.image_mean[c]);
    const float stddev = static_cast<float>(config_.image_std[c]);
    for (int v = 0; v < 256; ++v) {
      volatile float x = static_cast<float>(v);  // volatile: no fused multiply-add
      if (config_.do_rescale) x = x * factor;
      if (config_.do_normalize) {
        const float centred = x - mean;
        x = centred / stddev;
      }
      lut_[c][v] = x;
    }
  }
}

int ClipPreprocessor::output_width() const {
  return config_.do_center_crop ? config_.crop_width : 0;
}

int ClipPreprocessor::output_height() const {
  return config_.do_center_crop ? config_.crop_height : 0;
}

std::array<int, 2> ClipPreprocessor::resized_size(int width, int height) const {
  if (!config_.do_resize) return {width, height};
  if (config_.shortest_edge <= 0) return {config_.resize_width, config_.resize_height};
  const int target = config_.shortest_edge;
  const int short_edge = std::min(width, height);
  const int long_edge = std::max(width, height);
  if (short_edge <= 0 || short_edge == target) return {width, height};
  // Python: int(target * long / short), a correctly rounded double quotient truncated.
  const double quotient = static_cast<double>(static_cast<long long>(target) * long_edge) /
                          static_cast<double>(short_edge);
  const int new_long = static_cast<int>(quotient);
  return width <= height ? std::array<int, 2>{target, new_long}
                         : std::array<int, 2>{new_long, target};
}

RgbImage ClipPreprocessor::resize_and_crop(const RgbImage& image) const {
  assert(image.valid());
  const auto [width, height] = resized_size(image.width, image.height);
  if (!config_.do_center_crop) {
    if (width == image.width && height == image.height) return image;
    return resize_pillow(image, width, height, config_.resample);
  }
  const CropAxis x = crop_axis(width, config_.crop_width);
  const CropAxis y = crop_axis(height, config_.crop_height);
  const ResizeWindow window{x.src_begin, y.src_begin, x.length, y.length};
  // Computes only the cropped window of the resize (identical pixels, bounded work and memory).
  RgbImage cropped = resize_pillow_window(image, width, height, config_.resample, window);
  if (x.dst_begin == 0 && y.dst_begin == 0 && cropped.width == config_.crop_width &&
      cropped.height == config_.crop_height) {
    return cropped;
  }
  // Smaller than the crop on some axis: pad with zeros as HF does.
  return center_crop(cropped, config_.crop_width, config_.crop_height);
}

void ClipPreprocessor::to_tensor(const RgbImage& cropped, float* out_chw) const {
  assert(cropped.valid());
  const std::size_t plane = static_cast<std::size_t>(cropped.width) * cropped.height;
  float* r = out_chw;
  float* g = out_chw + plane;
  float* b = out_chw + 2 * plane;
  const std::uint8_t* p = cropped.pixels.data();
  const auto& lr = lut_[0];
  const auto& lg = lut_[1];
  const auto& lb = lut_[2];
  for (std::size_t i = 0; i < plane; ++i) {
    r[i] = lr[p[3 * i]];
    g[i] = lg[p[3 * i + 1]];
    b[i] = lb[p[3 * i + 2]];
  }
}

std::vector<float> ClipPreprocessor::preprocess(const RgbImage& image) const {
  const RgbImage cropped = resize_and_crop(image);
  std::vector<float> tensor(static_cast<std::size_t>(cropped.width) * cropped.height * 3);
  to_tensor(cropped, tensor.data());
  return tensor;
}

}  // namespace lookalike::image
