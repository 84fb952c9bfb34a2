// Encoders for RgbImage (libvips): PNG for `preprocess --png` (write_png writes atomically), and
// JPEG, e.g. for test catalogues and recompressed query photos.
// Thread-safety: safe to call concurrently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "core/result.h"
#include "image/rgb_image.h"

namespace lookalike::image {

Result<std::vector<std::uint8_t>> encode_png(const RgbImage& image);
// Baseline JPEG at `quality` (1..100), 4:2:0 chroma subsampling as most cameras and sites use.
Result<std::vector<std::uint8_t>> encode_jpeg(const RgbImage& image, int quality = 85);
Status write_png(const std::filesystem::path& path, const RgbImage& image);

}  // namespace lookalike::image
