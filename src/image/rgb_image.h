// RgbImage: an 8-bit interleaved RGB raster (row-major HWC), the value every image step passes on.
// Thread-safety: a plain value type; concurrent reads are safe, writes need exclusive access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lookalike::image {

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;  // width * height * 3 bytes

  static constexpr int kChannels = 3;

  // A zero-filled image of the given size.
  static RgbImage blank(int width, int height) {
    RgbImage image;
    image.width = width;
    image.height = height;
    image.pixels.assign(static_cast<std::size_t>(width) * height * kChannels, 0);
    return image;
  }

  bool empty() const { return width <= 0 || height <= 0; }
  std::size_t row_bytes() const { return static_cast<std::size_t>(width) * kChannels; }
  // True when pixels holds exactly width * height * 3 bytes.
  bool valid() const {
    return width >= 0 && height >= 0 &&
           pixels.size() == row_bytes() * static_cast<std::size_t>(height);
  }
  const std::uint8_t* row(int y) const { return pixels.data() + row_bytes() * y; }
  std::uint8_t* row(int y) { return pixels.data() + row_bytes() * y; }
  const std::uint8_t* at(int x, int y) const {
    return row(y) + static_cast<std::size_t>(x) * kChannels;
  }
};

}  // namespace lookalike::image
