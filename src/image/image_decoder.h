// Image decoding for ingestion: bytes (JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC/AVIF) → RGB8 with
// Pillow's `convert("RGB")` semantics (grey replicated, palette looked up, alpha dropped without
// compositing, CMYK by Pillow's formula), EXIF orientation applied. Untrusted input is expected:
// limits are checked from the header before any pixel is decoded, and failures are Results.
// Thread-safety: all functions are safe to call concurrently (libvips is set up once, lazily);
// each decode runs entirely on the calling thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "core/result.h"
#include "image/rgb_image.h"

namespace lookalike::image {

struct DecodeLimits {
  std::size_t max_bytes = 50 << 20;       // encoded size
  std::int64_t max_pixels = 100'000'000;  // width * height
  int max_dimension = 30000;              // either edge
};

struct ImageInfo {
  std::string format;  // "jpeg", "png", "webp", "gif", "bmp", "tiff", "heif", "avif"
  int width = 0;       // as decode_image would return it, i.e. after EXIF orientation
  int height = 0;
};

// The container format recognised from the leading bytes ("" when unknown). Cheap, no libvips.
std::string sniff_image_format(std::span<const std::uint8_t> bytes);

// Decodes the first frame/page. Errors: kCorruptData (empty, truncated, malformed),
// kUnsupported (unknown format or no decoder in this build), kResourceExhausted (limits).
Result<RgbImage> decode_image(std::span<const std::uint8_t> bytes, const DecodeLimits& limits = {});
// Maps the file and decodes it; the size limit is checked before reading. kNotFound/kIoError too.
Result<RgbImage> decode_image_file(const std::filesystem::path& path,
                                   const DecodeLimits& limits = {});
// Format and (oriented) dimensions from the header only; no pixels are decoded.
Result<ImageInfo> probe_image(std::span<const std::uint8_t> bytes);

}  // namespace lookalike::image
