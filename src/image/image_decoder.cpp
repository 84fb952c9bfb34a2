#include "image/image_decoder.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>
#include <utility>

#include "core/mapped_file.h"
#include "image/vips_runtime.h"

namespace lookalike::image {
namespace {

using detail::VipsImagePtr;
using detail::VipsRegionPtr;

bool starts_with(std::span<const std::uint8_t> bytes, std::size_t offset, std::string_view magic) {
  if (bytes.size() < offset + magic.size()) return false;
  return std::memcmp(bytes.data() + offset, magic.data(), magic.size()) == 0;
}

std::uint32_t read_u32_le(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}
std::uint32_t read_u32_be(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
         static_cast<std::uint32_t>(p[2]) << 8 | static_cast<std::uint32_t>(p[3]);
}
std::uint16_t read_u16_le(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | p[1] << 8);
}

// ISO-BMFF `ftyp` brands: "avif" when any brand says AV1 image, "heif" for the HEVC family.
std::string sniff_heif(std::span<const std::uint8_t> bytes) {
  if (!starts_with(bytes, 4, "ftyp") || bytes.size() < 16) return "";
  std::size_t box_size = read_u32_be(bytes.data());
  if (box_size < 16) return "";
  box_size = std::min(box_size, bytes.size());
  bool heif = false;
  bool avif = false;
  for (std::size_t offset = 8; offset + 4 <= box_size; offset += 4) {
    if (offset == 12) continue;  // minor_version, not a brand
    std::string_view brand(reinterpret_cast<const char*>(bytes.data() + offset), 4);
    if (brand == "avif" || brand == "avis") avif = true;
    if (brand == "heic" || brand == "heix" || brand == "hevc" || brand == "hevx" ||
        brand == "heim" || brand == "heis" || brand == "mif1" || brand == "msf1") {
      heif = true;
    }
  }
  if (avif) return "avif";
  if (heif) return "heif";
  return "";
}

bool is_bmp(std::span<const std::uint8_t> bytes) {
  if (!starts_with(bytes, 0, "BM") || bytes.size() < 26) return false;
  std::uint32_t dib_size = read_u32_le(bytes.data() + 14);
  return dib_size == 12 || dib_size == 16 || dib_size == 40 || dib_size == 52 || dib_size == 56 ||
         dib_size == 64 || dib_size == 108 || dib_size == 124;
}

// BMP goes through ImageMagick, whose header read is not guaranteed lazy, so the dimensions are
// read here first.
Result<std::pair<std::int64_t, std::int64_t>> bmp_dimensions(std::span<const std::uint8_t> bytes) {
  std::uint32_t dib_size = read_u32_le(bytes.data() + 14);
  if (dib_size == 12) {
    return std::pair<std::int64_t, std::int64_t>{read_u16_le(bytes.data() + 18),
                                                 read_u16_le(bytes.data() + 20)};
  }
  auto width = static_cast<std::int32_t>(read_u32_le(bytes.data() + 18));
  auto height = static_cast<std::int32_t>(read_u32_le(bytes.data() + 22));
  std::int64_t w = width;
  std::int64_t h = height;
  if (h < 0) h = -h;  // top-down bitmap
  if (w <= 0 || h <= 0) {
    return make_error(ErrorCode::kCorruptData, "bmp: header has a non-positive dimension");
  }
  return std::pair<std::int64_t, std::int64_t>{w, h};
}

Status check_dimensions(std::string_view format, std::int64_t width, std::int64_t height,
                        const DecodeLimits& limits) {
  if (width <= 0 || height <= 0) {
    return make_error(ErrorCode::kCorruptData, std::string(format) + ": header has an empty size");
  }
  const std::string size = std::to_string(width) + "x" + std::to_string(height);
  if (width > limits.max_dimension || height > limits.max_dimension) {
    return make_error(ErrorCode::kResourceExhausted,
                      std::string(format) + ": " + size + " exceeds the " +
                          std::to_string(limits.max_dimension) + " pixel edge limit");
  }
  if (width * height > limits.max_pixels) {
    return make_error(ErrorCode::kResourceExhausted,
                      std::string(format) + ": " + size + " exceeds the " +
                          std::to_string(limits.max_pixels) + " pixel limit");
  }
  return ok_status();
}

bool operation_exists(const char* nickname) {
  return vips_type_find("VipsOperation", nickname) != 0;
}

// Opens the image lazily: only the header is read here, pixels are decoded on demand.
Result<VipsImagePtr> open_header(const std::string& format, std::span<const std::uint8_t> bytes) {
  if (auto status = detail::ensure_vips(); !status) return status.error();
  void* data = const_cast<std::uint8_t*>(bytes.data());  // libvips only reads the buffer
  const std::size_t size = bytes.size();
  const char* loader = nullptr;
  if (format == "jpeg") loader = "jpegload_buffer";
  if (format == "png") loader = "pngload_buffer";
  if (format == "webp") loader = "webpload_buffer";
  if (format == "gif") loader = "gifload_buffer";
  if (format == "tiff") loader = "tiffload_buffer";
  if (format == "heif" || format == "avif") loader = "heifload_buffer";
  if (format == "bmp") loader = "magickload_buffer";
  if (loader == nullptr || !operation_exists(loader)) {
    return make_error(ErrorCode::kUnsupported,
                      format + ": this build's libvips has no decoder for it (" +
                          (loader != nullptr ? loader : "none") + " missing)");
  }

  VipsImage* out = nullptr;
  int rc = -1;
  // Sequential access keeps memory to a strip; fail_on=error turns truncation and corrupt data
  // into errors instead of grey fill.
  if (format == "jpeg") {
    rc = vips_jpegload_buffer(data, size, &out, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                              VIPS_FAIL_ON_ERROR, nullptr);
  } else if (format == "png") {
    rc = vips_pngload_buffer(data, size, &out, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                             VIPS_FAIL_ON_ERROR, nullptr);
  } else if (format == "webp") {
    rc = vips_webpload_buffer(data, size, &out, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                              VIPS_FAIL_ON_ERROR, "page", 0, "n", 1, nullptr);
  } else if (format == "gif") {
    rc = vips_gifload_buffer(data, size, &out, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                             VIPS_FAIL_ON_ERROR, "page", 0, "n", 1, nullptr);
  } else if (format == "tiff") {
    rc = vips_tiffload_buffer(data, size, &out, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                              VIPS_FAIL_ON_ERROR, "page", 0, "n", 1, nullptr);
  } else if (format == "heif" || format == "avif") {
    rc = vips_heifload_buffer(data, size, &out, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                              VIPS_FAIL_ON_ERROR, "page", 0, "n", 1, nullptr);
  } else if (format == "bmp") {
    rc = vips_magickload_buffer(data, size, &out, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                VIPS_FAIL_ON_ERROR, "page", 0, "n", 1, nullptr);
  }
  VipsImagePtr image(out);
  if (rc != 0 || image == nullptr) {
    return make_error(ErrorCode::kCorruptData,
                      format + ": cannot read header: " + detail::take_vips_error());
  }
  return image;
}

int orientation_of(VipsImage* image) {
  int orientation = vips_image_get_orientation(image);
  return orientation >= 1 && orientation <= 8 ? orientation : 1;
}

bool swaps_axes(int orientation) { return orientation >= 5; }

// How the decoded bands map to RGB.
enum class BandLayout { kGrey, kRgb, kCmyk };

// Wraps a libvips call that produces a new image from `image`, replacing it.
template <typename Fn>
Status transform(VipsImagePtr& image, const char* what, Fn&& fn) {
  VipsImage* out = nullptr;
  if (fn(image.get(), &out) != 0 || out == nullptr) {
    return make_error(ErrorCode::kCorruptData,
                      std::string(what) + ": " + detail::take_vips_error());
  }
  image.reset(out);
  return ok_status();
}

// Reduces the loaded image to 1 (grey), 3 (RGB) or 4 (CMYK) uchar bands, the way Pillow's
// convert("RGB") would see them: alpha and extra bands dropped, no colour management.
Result<BandLayout> to_uchar_bands(VipsImagePtr& image) {
  VipsInterpretation interpretation = vips_image_guess_interpretation(image.get());
  switch (interpretation) {
    case VIPS_INTERPRETATION_LAB:
    case VIPS_INTERPRETATION_LABQ:
    case VIPS_INTERPRETATION_LABS:
    case VIPS_INTERPRETATION_LCH:
    case VIPS_INTERPRETATION_CMC:
    case VIPS_INTERPRETATION_XYZ:
    case VIPS_INTERPRETATION_YXY:
    case VIPS_INTERPRETATION_scRGB:
    case VIPS_INTERPRETATION_HSV:
      if (auto s = transform(image, "colourspace",
                             [](VipsImage* in, VipsImage** out) {
                               return vips_colourspace(in, out, VIPS_INTERPRETATION_sRGB, nullptr);
                             });
          !s) {
        return s.error();
      }
      interpretation = VIPS_INTERPRETATION_sRGB;
      break;
    default:
      break;
  }

  const int bands = image->Bands;
  BandLayout layout;
  int keep;
  if (interpretation == VIPS_INTERPRETATION_CMYK && bands >= 4) {
    layout = BandLayout::kCmyk;
    keep = 4;
  } else if (interpretation == VIPS_INTERPRETATION_B_W ||
             interpretation == VIPS_INTERPRETATION_GREY16 || bands < 3) {
    layout = BandLayout::kGrey;
    keep = 1;
  } else {
    layout = BandLayout::kRgb;
    keep = 3;
  }

  if (bands != keep) {
    if (auto s = transform(image, "extract_band",
                           [keep](VipsImage* in, VipsImage** out) {
                             return vips_extract_band(in, out, 0, "n", keep, nullptr);
                           });
        !s) {
      return s.error();
    }
  }

  switch (image->BandFmt) {
    case VIPS_FORMAT_UCHAR:
      break;
    case VIPS_FORMAT_USHORT:
      // 16-bit samples keep their high byte (Pillow's RGB;16B unpacker truncates the same way).
      if (auto s = transform(image, "shift",
                             [](VipsImage* in, VipsImage** out) {
                               return vips_rshift_const1(in, out, 8, nullptr);
                             });
          !s) {
        return s.error();
      }
      [[fallthrough]];
    default:
      if (auto s = transform(
              image, "cast",
              [](VipsImage* in, VipsImage** out) { return vips_cast_uchar(in, out, nullptr); });
          !s) {
        return s.error();
      }
      break;
  }
  return layout;
}

// Pillow's cmyk2rgb (libImaging/Convert.c): naive, no ICC profile.
inline std::uint8_t cmyk_channel(int ink, int not_black) {
  int tmp = ink * not_black + 128;
  int scaled = ((tmp >> 8) + tmp) >> 8;
  return static_cast<std::uint8_t>(std::clamp(not_black - scaled, 0, 255));
}

void convert_row(BandLayout layout, const std::uint8_t* in, std::uint8_t* out, int width) {
  switch (layout) {
    case BandLayout::kRgb:
      std::memcpy(out, in, static_cast<std::size_t>(width) * 3);
      break;
    case BandLayout::kGrey:
      for (int x = 0; x < width; ++x) out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = in[x];
      break;
    case BandLayout::kCmyk:
      for (int x = 0; x < width; ++x) {
        const std::uint8_t* p = in + 4 * x;
        const int not_black = 255 - p[3];
        out[3 * x + 0] = cmyk_channel(p[0], not_black);
        out[3 * x + 1] = cmyk_channel(p[1], not_black);
        out[3 * x + 2] = cmyk_channel(p[2], not_black);
      }
      break;
  }
}

// Pulls the pixels strip by strip on this thread (no libvips worker pool).
Result<RgbImage> read_pixels(const std::string& format, VipsImage* image, BandLayout layout) {
  RgbImage result = RgbImage::blank(image->Xsize, image->Ysize);
  VipsRegionPtr region(vips_region_new(image));
  if (region == nullptr) {
    return make_error(ErrorCode::kInternal, format + ": " + detail::take_vips_error());
  }
  constexpr int kStrip = 64;
  for (int top = 0; top < result.height; top += kStrip) {
    VipsRect rect{0, top, result.width, std::min(kStrip, result.height - top)};
    if (vips_region_prepare(region.get(), &rect) != 0) {
      return make_error(ErrorCode::kCorruptData,
                        format + ": cannot decode pixels: " + detail::take_vips_error());
    }
    for (int y = rect.top; y < rect.top + rect.height; ++y) {
      const auto* in = reinterpret_cast<const std::uint8_t*>(VIPS_REGION_ADDR(region.get(), 0, y));
      convert_row(layout, in, result.row(y), result.width);
    }
  }
  return result;
}

// EXIF orientation 2..8 → upright pixels (TIFF/EXIF definitions).
RgbImage apply_orientation(RgbImage src, int orientation) {
  if (orientation <= 1 || orientation > 8) return src;
  const int w = src.width;
  const int h = src.height;
  RgbImage out = swaps_axes(orientation) ? RgbImage::blank(h, w) : RgbImage::blank(w, h);
  for (int y = 0; y < out.height; ++y) {
    std::uint8_t* dst = out.row(y);
    for (int x = 0; x < out.width; ++x) {
      int sx = x;
      int sy = y;
      switch (orientation) {
        case 2:
          sx = w - 1 - x;
          break;
        case 3:
          sx = w - 1 - x;
          sy = h - 1 - y;
          break;
        case 4:
          sy = h - 1 - y;
          break;
        case 5:
          sx = y;
          sy = x;
          break;
        case 6:
          sx = y;
          sy = h - 1 - x;
          break;
        case 7:
          sx = w - 1 - y;
          sy = h - 1 - x;
          break;
        case 8:
          sx = w - 1 - y;
          sy = x;
          break;
        default:
          break;
      }
      std::memcpy(dst + 3 * x, src.at(sx, sy), 3);
    }
  }
  return out;
}

Result<std::string> recognise(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return make_error(ErrorCode::kCorruptData, "empty image data");
  std::string format = sniff_image_format(bytes);
  if (format.empty()) {
    return make_error(ErrorCode::kUnsupported,
                      "not a recognised image format (expected JPEG, PNG, WebP, GIF, BMP, TIFF, "
                      "HEIC or AVIF)");
  }
  return format;
}

}  // namespace

std::string sniff_image_format(std::span<const std::uint8_t> bytes) {
  if (starts_with(bytes, 0, "\xFF\xD8\xFF")) return "jpeg";
  if (starts_with(bytes, 0, "\x89PNG\r\n\x1A\n")) return "png";
  if (starts_with(bytes, 0, "GIF87a") || starts_with(bytes, 0, "GIF89a")) return "gif";
  if (starts_with(bytes, 0, "RIFF") && starts_with(bytes, 8, "WEBP")) return "webp";
  if (starts_with(bytes, 0, std::string_view("II*\0", 4)) ||
      starts_with(bytes, 0, std::string_view("MM\0*", 4)) ||
      starts_with(bytes, 0, std::string_view("II+\0", 4)) ||
      starts_with(bytes, 0, std::string_view("MM\0+", 4))) {
    return "tiff";
  }
  if (is_bmp(bytes)) return "bmp";
  return sniff_heif(bytes);
}

Result<ImageInfo> probe_image(std::span<const std::uint8_t> bytes) {
  auto format = recognise(bytes);
  if (!format) return format.error();
  auto image = open_header(*format, bytes);
  if (!image) return image.error();
  ImageInfo info;
  info.format = *format;
  info.width = (*image)->Xsize;
  info.height = (*image)->Ysize;
  if (swaps_axes(orientation_of(image->get()))) std::swap(info.width, info.height);
  return info;
}

Result<RgbImage> decode_image(std::span<const std::uint8_t> bytes, const DecodeLimits& limits) {
  auto format = recognise(bytes);
  if (!format) return format.error();
  if (bytes.size() > limits.max_bytes) {
    return make_error(ErrorCode::kResourceExhausted,
                      *format + ": " + std::to_string(bytes.size()) + " bytes exceeds the " +
                          std::to_string(limits.max_bytes) + " byte limit");
  }
  if (*format == "bmp") {
    auto dims = bmp_dimensions(bytes);
    if (!dims) return dims.error();
    if (auto s = check_dimensions(*format, dims->first, dims->second, limits); !s) return s.error();
  }
  auto opened = open_header(*format, bytes);
  if (!opened) return opened.error();
  VipsImagePtr image = std::move(*opened);
  if (auto s = check_dimensions(*format, image->Xsize, image->Ysize, limits); !s) return s.error();
  const int orientation = orientation_of(image.get());

  auto layout = to_uchar_bands(image);
  if (!layout) return layout.error().with_context(*format);
  auto pixels = read_pixels(*format, image.get(), *layout);
  if (!pixels) return pixels.error();
  return apply_orientation(std::move(*pixels), orientation);
}

Result<RgbImage> decode_image_file(const std::filesystem::path& path, const DecodeLimits& limits) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    const auto code =
        ec == std::errc::no_such_file_or_directory ? ErrorCode::kNotFound : ErrorCode::kIoError;
    return make_error(code, path.string() + ": " + ec.message());
  }
  if (size > limits.max_bytes) {
    return make_error(ErrorCode::kResourceExhausted,
                      path.string() + ": " + std::to_string(size) + " bytes exceeds the " +
                          std::to_string(limits.max_bytes) + " byte limit");
  }
  if (size == 0) return make_error(ErrorCode::kCorruptData, path.string() + ": empty file");
  auto mapped = MappedFile::open(path);
  if (!mapped) return mapped.error();
  auto image = decode_image(mapped->bytes(), limits);
  if (!image) return image.error().with_context(path.string());
  return image;
}

}  // namespace lookalike::image
