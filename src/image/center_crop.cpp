#include "image/center_crop.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace lookalike::image {
namespace {

struct AxisWindow {
  int src_begin;  // first source index copied
  int dst_begin;  // where it lands in the crop
  int length;     // how many are copied
};

AxisWindow axis_window(int src, int crop) {
  if (src >= crop) return {(src - crop) / 2, 0, crop};
  return {0, (crop - src + 1) / 2, src};
}

}  // namespace

RgbImage center_crop(const RgbImage& src, int width, int height) {
  assert(src.valid());
  RgbImage out = RgbImage::blank(std::max(width, 0), std::max(height, 0));
  if (out.empty() || src.empty()) return out;
  const AxisWindow x = axis_window(src.width, out.width);
  const AxisWindow y = axis_window(src.height, out.height);
  const std::size_t bytes = static_cast<std::size_t>(x.length) * RgbImage::kChannels;
  for (int row = 0; row < y.length; ++row) {
    std::memcpy(out.row(y.dst_begin + row) + static_cast<std::size_t>(x.dst_begin) * 3,
                src.row(y.src_begin + row) + static_cast<std::size_t>(x.src_begin) * 3, bytes);
  }
  return out;
}

}  // namespace lookalike::image
