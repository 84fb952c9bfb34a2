// write_png: saves an RgbImage as an 8-bit RGB PNG (e.g. the crop the vision tower saw, for
// `--png`), written atomically; encode_png gives the bytes without touching the disk.
// Thread-safety: safe to call concurrently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "core/result.h"
#include "image/rgb_image.h"

namespace lookalike::image {

Result<std::vector<std::uint8_t>> encode_png(const RgbImage& image);
Status write_png(const std::filesystem::path& path, const RgbImage& image);

}  // namespace lookalike::image
