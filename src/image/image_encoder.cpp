#include "image/image_encoder.h"

#include <memory>
#include <string_view>

#include "core/file_util.h"
#include "image/vips_runtime.h"

namespace lookalike::image {

namespace {

enum class Codec { kPng, kJpeg };

Result<std::vector<std::uint8_t>> encode(const RgbImage& image, Codec codec, int quality) {
  const char* name = codec == Codec::kPng ? "encode_png" : "encode_jpeg";
  if (image.empty() || !image.valid()) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::string(name) + ": image is empty or its pixel buffer does not match " +
                          std::to_string(image.width) + "x" + std::to_string(image.height));
  }
  if (auto status = detail::ensure_vips(); !status) return status.error();
  detail::VipsImagePtr wrapped(vips_image_new_from_memory(
      image.pixels.data(), image.pixels.size(), image.width, image.height, 3, VIPS_FORMAT_UCHAR));
  if (wrapped == nullptr) {
    return make_error(ErrorCode::kInternal, std::string(name) + ": " + detail::take_vips_error());
  }
  wrapped->Type = VIPS_INTERPRETATION_sRGB;
  void* buffer = nullptr;
  std::size_t length = 0;
  int failed = codec == Codec::kPng ? vips_pngsave_buffer(wrapped.get(), &buffer, &length,
                                                          "compression", 6, "strip", TRUE, nullptr)
                                    : vips_jpegsave_buffer(wrapped.get(), &buffer, &length, "Q",
                                                           quality, "strip", TRUE, nullptr);
  if (failed != 0) {
    return make_error(ErrorCode::kInternal, std::string(name) + ": " + detail::take_vips_error());
  }
  std::unique_ptr<void, detail::GFree> owned(buffer);
  const auto* bytes = static_cast<const std::uint8_t*>(buffer);
  return std::vector<std::uint8_t>(bytes, bytes + length);
}

}  // namespace

Result<std::vector<std::uint8_t>> encode_png(const RgbImage& image) {
  return encode(image, Codec::kPng, 0);
}

Result<std::vector<std::uint8_t>> encode_jpeg(const RgbImage& image, int quality) {
  if (quality < 1 || quality > 100) {
    return make_error(ErrorCode::kInvalidArgument, "encode_jpeg: quality must be 1..100");
  }
  return encode(image, Codec::kJpeg, quality);
}

Status write_png(const std::filesystem::path& path, const RgbImage& image) {
  auto bytes = encode_png(image);
  if (!bytes) return bytes.error().with_context(path.string());
  return write_file_atomic(
      path, std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
}

}  // namespace lookalike::image
