// The decoder on hostile and unusual input: truncation, garbage, decompression bombs, limits,
// EXIF orientation, every PNG colour type, GIF first frame, BMP, TIFF, concurrency.
#include "image/image_decoder.h"

#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "image/image_encoder.h"
#include "image_fixtures.h"
#include "test_support.h"

namespace lookalike::image {
namespace {

namespace fx = fixtures;
using lookalike::testing::conformance_dir;

std::span<const std::uint8_t> as_bytes(const std::string& data) {
  return {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()};
}

std::string conformance_image(const std::string& name) {
  return lookalike::testing::read_bytes(conformance_dir() / "images" / name);
}

std::array<std::uint8_t, 3> pixel(const RgbImage& image, int x, int y) {
  const std::uint8_t* p = image.at(x, y);
  return {p[0], p[1], p[2]};
}

using Rgb = std::array<std::uint8_t, 3>;

// ---------------------------------------------------------------- malformed input

TEST(ImageDecoder, EmptyBufferIsCorruptData) {
  auto result = decode_image({});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kCorruptData);
}

TEST(ImageDecoder, RandomBytesAreUnsupported) {
  std::mt19937 rng(42);
  std::string junk(4096, '\0');
  for (auto& c : junk) c = static_cast<char>(rng());
  junk[0] = 'x';  // make sure no magic number matches by chance
  auto result = decode_image(as_bytes(junk));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(result.error().message.find("not a recognised image format"), std::string::npos);
}

TEST(ImageDecoder, GarbageBehindAValidMagicNumberIsCorruptData) {
  std::mt19937 rng(43);
  for (const std::string& magic :
       {std::string("\xFF\xD8\xFF"), std::string("\x89PNG\r\n\x1A\n"), std::string("GIF89a"),
        std::string("RIFF\x10\0\0\0WEBP", 12), std::string("II*\0", 4)}) {
    std::string data = magic;
    for (int i = 0; i < 2000; ++i) data.push_back(static_cast<char>(rng()));
    auto result = decode_image(as_bytes(data));
    ASSERT_FALSE(result.ok()) << magic;
    EXPECT_EQ(result.error().code, ErrorCode::kCorruptData) << result.error().to_string();
  }
}

TEST(ImageDecoder, TruncatedJpegIsCorruptData) {
  const std::string jpeg = conformance_image("photo_640x480_q90.jpg");
  for (std::size_t length :
       {jpeg.size() / 2, jpeg.size() - 100, std::size_t{700}, std::size_t{4}}) {
    auto result = decode_image(as_bytes(jpeg.substr(0, length)));
    ASSERT_FALSE(result.ok()) << "length " << length;
    EXPECT_EQ(result.error().code, ErrorCode::kCorruptData) << result.error().to_string();
    EXPECT_NE(result.error().message.find("jpeg"), std::string::npos);
  }
  const std::string progressive = conformance_image("progressive_1024x683.jpg");
  auto result = decode_image(as_bytes(progressive.substr(0, progressive.size() / 2)));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kCorruptData);
}

TEST(ImageDecoder, TruncatedPngAndWebpAreCorruptData) {
  for (const char* name : {"square_224.png", "palette_257x190.png", "odd_333x517.webp"}) {
    const std::string data = conformance_image(name);
    auto result = decode_image(as_bytes(data.substr(0, data.size() * 2 / 3)));
    ASSERT_FALSE(result.ok()) << name;
    EXPECT_EQ(result.error().code, ErrorCode::kCorruptData) << result.error().to_string();
  }
}

TEST(ImageDecoder, CorruptedBytesNeverCrash) {
  std::mt19937 rng(44);
  for (const char* name :
       {"photo_640x480_q90.jpg", "gray_300x301.png", "odd_333x517.webp", "palette_257x190.png"}) {
    const std::string original = conformance_image(name);
    for (int trial = 0; trial < 12; ++trial) {
      std::string data = original;
      std::uniform_int_distribution<std::size_t> position(16, data.size() - 1);
      for (int flips = 0; flips < 1 + trial; ++flips)
        data[position(rng)] ^= static_cast<char>(1 + rng() % 255);
      auto result = decode_image(as_bytes(data));
      if (result.ok()) {
        EXPECT_TRUE(result->valid());
      } else {
        EXPECT_FALSE(result.error().message.empty());
      }
    }
  }
}

// ---------------------------------------------------------------- limits

TEST(ImageDecoder, PngHeaderBombFailsFastWithResourceExhausted) {
  // A valid signature and IHDR (correct CRC) claiming 100000 x 100000 RGB, a token IDAT.
  const std::string bomb =
      std::string("\x89PNG\r\n\x1A\n", 8) + fx::png_ihdr(100000, 100000, 8, 2) +
      fx::png_chunk("IDAT", fx::zlib_stored(std::string(64, '\0'))) + fx::png_chunk("IEND", "");
  ASSERT_TRUE(decode_image(as_bytes(fx::make_png(1, 1, 8, 0, {std::string(1, '\0')}))).ok());
  const auto start = std::chrono::steady_clock::now();  // timed after libvips' one-time start-up
  auto result = decode_image(as_bytes(bomb));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kResourceExhausted) << result.error().to_string();
  EXPECT_LT(elapsed, std::chrono::milliseconds(500));

  auto info = probe_image(as_bytes(bomb));
  ASSERT_TRUE(info.ok()) << info.error().to_string();
  EXPECT_EQ(info->format, "png");
  EXPECT_EQ(info->width, 100000);
  EXPECT_EQ(info->height, 100000);
}

TEST(ImageDecoder, JpegAndGifHeaderBombsFailFast) {
  // The photo with its SOF0 frame header patched to claim 20000 x 20000 (400 Mpixel).
  std::string jpeg = conformance_image("photo_640x480_q90.jpg");
  const std::size_t sof = jpeg.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  for (std::size_t offset : {sof + 5, sof + 7}) {  // height, then width, big-endian
    jpeg[offset] = static_cast<char>(20000 >> 8);
    jpeg[offset + 1] = static_cast<char>(20000 & 0xFF);
  }
  auto jpeg_result = decode_image(as_bytes(jpeg));
  ASSERT_FALSE(jpeg_result.ok());
  EXPECT_EQ(jpeg_result.error().code, ErrorCode::kResourceExhausted)
      << jpeg_result.error().to_string();

  // A GIF whose logical screen claims 60000 x 60000 around a 4 x 3 frame: libnsgif ignores an
  // implausible screen size and uses the frame's; either way nothing huge is allocated.
  std::string gif = fx::make_gif(4, 3, {}, {{4, 3, std::vector<int>(12, 1)}});
  gif[6] = gif[8] = static_cast<char>(60000 & 0xFF);
  gif[7] = gif[9] = static_cast<char>(60000 >> 8);
  auto gif_result = decode_image(as_bytes(gif));
  if (gif_result.ok()) {
    EXPECT_LE(static_cast<std::int64_t>(gif_result->width) * gif_result->height, 100'000'000);
  } else {
    EXPECT_EQ(gif_result.error().code, ErrorCode::kResourceExhausted)
        << gif_result.error().to_string();
  }
  // A frame that really is 20000 x 20000 (the screen too) is refused from the header.
  std::string big = fx::make_gif(4, 3, {}, {{4, 3, std::vector<int>(12, 1)}});
  big[6] = big[8] = static_cast<char>(20000 & 0xFF);
  big[7] = big[9] = static_cast<char>(20000 >> 8);
  const std::size_t descriptor = big.find('\x2C', 13 + 12 + 8);
  ASSERT_NE(descriptor, std::string::npos);
  big[descriptor + 5] = big[descriptor + 7] = static_cast<char>(20000 & 0xFF);
  big[descriptor + 6] = big[descriptor + 8] = static_cast<char>(20000 >> 8);
  auto big_result = decode_image(as_bytes(big));
  ASSERT_FALSE(big_result.ok());
  std::printf("20000x20000 gif: %s\n", big_result.error().to_string().c_str());
  EXPECT_TRUE(big_result.error().code == ErrorCode::kResourceExhausted ||
              big_result.error().code == ErrorCode::kCorruptData);
}

TEST(ImageDecoder, BmpHeaderBombFailsFast) {
  std::string bmp = fx::make_bmp(2, 2, std::vector<std::uint8_t>(12, 9));
  // Patch the header to claim 50000 x 50000.
  for (int i = 0; i < 4; ++i)
    bmp[18 + i] = bmp[22 + i] = static_cast<char>((50000 >> (8 * i)) & 0xFF);
  auto result = decode_image(as_bytes(bmp));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kResourceExhausted) << result.error().to_string();
}

TEST(ImageDecoder, LimitsAreEnforced) {
  const std::string jpeg = conformance_image("photo_640x480_q90.jpg");
  DecodeLimits small_bytes;
  small_bytes.max_bytes = 1000;
  auto too_big = decode_image(as_bytes(jpeg), small_bytes);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code, ErrorCode::kResourceExhausted);

  DecodeLimits few_pixels;
  few_pixels.max_pixels = 640 * 480 - 1;
  auto too_many = decode_image(as_bytes(jpeg), few_pixels);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, ErrorCode::kResourceExhausted);
  EXPECT_NE(too_many.error().message.find("640x480"), std::string::npos);

  DecodeLimits narrow;
  narrow.max_dimension = 639;
  auto too_wide = decode_image(as_bytes(jpeg), narrow);
  ASSERT_FALSE(too_wide.ok());
  EXPECT_EQ(too_wide.error().code, ErrorCode::kResourceExhausted);

  DecodeLimits exact;
  exact.max_pixels = 640 * 480;
  exact.max_dimension = 640;
  exact.max_bytes = jpeg.size();
  EXPECT_TRUE(decode_image(as_bytes(jpeg), exact).ok());
}

TEST(ImageDecoder, FileErrors) {
  lookalike::testing::TempDir dir;
  auto missing = decode_image_file(dir / "nope.jpg");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  lookalike::testing::write_bytes(dir / "empty.png", "");
  auto empty = decode_image_file(dir / "empty.png");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kCorruptData);
  DecodeLimits tiny;
  tiny.max_bytes = 10;
  auto large = decode_image_file(conformance_dir() / "images" / "square_224.png", tiny);
  ASSERT_FALSE(large.ok());
  EXPECT_EQ(large.error().code, ErrorCode::kResourceExhausted);
}

// ---------------------------------------------------------------- probing

TEST(ImageDecoder, ProbeReadsFormatAndSizeFromTheHeader) {
  struct Case {
    const char* name;
    const char* format;
    int width;
    int height;
  };
  for (const Case& c :
       {Case{"photo_640x480_q90.jpg", "jpeg", 640, 480},
        Case{"progressive_1024x683.jpg", "jpeg", 1024, 683},
        Case{"gray_300x301.png", "png", 300, 301}, Case{"odd_333x517.webp", "webp", 333, 517},
        Case{"cmyk_400x300.jpg", "jpeg", 400, 300}}) {
    auto info = probe_image(as_bytes(conformance_image(c.name)));
    ASSERT_TRUE(info.ok()) << c.name << ": " << info.error().to_string();
    EXPECT_EQ(info->format, c.format);
    EXPECT_EQ(info->width, c.width);
    EXPECT_EQ(info->height, c.height);
  }
  auto junk = probe_image(as_bytes("hello world"));
  ASSERT_FALSE(junk.ok());
  EXPECT_EQ(junk.error().code, ErrorCode::kUnsupported);
}

TEST(ImageDecoder, SniffsContainerFormats) {
  EXPECT_EQ(sniff_image_format(as_bytes(std::string("\0\0\0\x1C"
                                                    "ftypavif\0\0\0\0avifmif1",
                                                    24))),
            "avif");
  EXPECT_EQ(sniff_image_format(as_bytes(std::string("\0\0\0\x18"
                                                    "ftypheic\0\0\0\0mif1heic",
                                                    24))),
            "heif");
  EXPECT_EQ(sniff_image_format(as_bytes(std::string("\0\0\0\x18"
                                                    "ftypisom\0\0\0\0isomavc1",
                                                    24))),
            "");
  EXPECT_EQ(sniff_image_format(as_bytes(std::string("MM\0*", 4))), "tiff");
  EXPECT_EQ(sniff_image_format(as_bytes(std::string("BM"))), "");  // too short for a BMP header
}

TEST(ImageDecoder, BrokenHeifIsAnErrorNotACrash) {
  std::string data(
      "\0\0\0\x1C"
      "ftypavif\0\0\0\0avifmif1",
      24);
  data.append(500, '\x42');
  auto result = decode_image(as_bytes(data));
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.error().code == ErrorCode::kCorruptData ||
              result.error().code == ErrorCode::kUnsupported)
      << result.error().to_string();
}

// ---------------------------------------------------------------- orientation

// Where stored pixel (x, y) of a W x H image is displayed for each EXIF orientation.
std::pair<int, int> displayed_at(int orientation, int x, int y, int w, int h) {
  switch (orientation) {
    case 2:
      return {w - 1 - x, y};
    case 3:
      return {w - 1 - x, h - 1 - y};
    case 4:
      return {x, h - 1 - y};
    case 5:
      return {y, x};
    case 6:
      return {h - 1 - y, x};
    case 7:
      return {h - 1 - y, w - 1 - x};
    case 8:
      return {y, w - 1 - x};
    default:
      return {x, y};
  }
}

void expect_oriented(const RgbImage& upright, const RgbImage& stored, int orientation) {
  const bool swap = orientation >= 5;
  ASSERT_EQ(upright.width, swap ? stored.height : stored.width);
  ASSERT_EQ(upright.height, swap ? stored.width : stored.height);
  for (int y = 0; y < stored.height; ++y) {
    for (int x = 0; x < stored.width; ++x) {
      const auto [dx, dy] = displayed_at(orientation, x, y, stored.width, stored.height);
      ASSERT_EQ(pixel(upright, dx, dy), pixel(stored, x, y))
          << "orientation " << orientation << " at " << x << "," << y;
    }
  }
}

TEST(ImageDecoder, JpegExifOrientationIsApplied) {
  const std::string jpeg = conformance_image("photo_640x480_q90.jpg");
  auto stored = decode_image(as_bytes(jpeg));
  ASSERT_TRUE(stored.ok()) << stored.error().to_string();
  for (int orientation = 1; orientation <= 8; ++orientation) {
    const std::string tagged = fx::with_exif_orientation(jpeg, orientation);
    auto upright = decode_image(as_bytes(tagged));
    ASSERT_TRUE(upright.ok()) << upright.error().to_string();
    expect_oriented(*upright, *stored, orientation);
    auto info = probe_image(as_bytes(tagged));
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->width, upright->width);
    EXPECT_EQ(info->height, upright->height);
  }
  // Orientation 6 (rotate 90° clockwise) turns the 640x480 landscape into a 480x640 portrait.
  auto rotated = decode_image(as_bytes(fx::with_exif_orientation(jpeg, 6)));
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(rotated->width, 480);
  EXPECT_EQ(rotated->height, 640);
}

std::vector<std::uint8_t> gradient(int width, int height) {
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      std::uint8_t* p = rgb.data() + (static_cast<std::size_t>(y) * width + x) * 3;
      p[0] = static_cast<std::uint8_t>(x * 7);
      p[1] = static_cast<std::uint8_t>(y * 13);
      p[2] = static_cast<std::uint8_t>(x * y);
    }
  }
  return rgb;
}

TEST(ImageDecoder, TiffDecodesExactlyAndHonoursItsOrientationTag) {
  const int w = 7;
  const int h = 5;
  const std::vector<std::uint8_t> rgb = gradient(w, h);
  auto plain = decode_image(as_bytes(fx::make_tiff(w, h, rgb)));
  ASSERT_TRUE(plain.ok()) << plain.error().to_string();
  EXPECT_EQ(plain->pixels, rgb);
  for (int orientation : {3, 6, 8}) {
    auto oriented = decode_image(as_bytes(fx::make_tiff(w, h, rgb, orientation)));
    ASSERT_TRUE(oriented.ok()) << oriented.error().to_string();
    expect_oriented(*oriented, *plain, orientation);
  }
}

// ---------------------------------------------------------------- colour conversion

TEST(ImageDecoder, GreyPngIsReplicated) {
  const std::string png = fx::make_png(3, 1, 8, 0, {std::string("\x00\x80\xFF", 3)});
  auto image = decode_image(as_bytes(png));
  ASSERT_TRUE(image.ok()) << image.error().to_string();
  EXPECT_EQ(pixel(*image, 0, 0), (Rgb{0, 0, 0}));
  EXPECT_EQ(pixel(*image, 1, 0), (Rgb{128, 128, 128}));
  EXPECT_EQ(pixel(*image, 2, 0), (Rgb{255, 255, 255}));
}

TEST(ImageDecoder, OneBitGreyPngIsBlackAndWhite) {
  const std::string png = fx::make_png(8, 1, 1, 0, {std::string("\xA0", 1)});  // 10100000
  auto image = decode_image(as_bytes(png));
  ASSERT_TRUE(image.ok()) << image.error().to_string();
  EXPECT_EQ(pixel(*image, 0, 0), (Rgb{255, 255, 255}));
  EXPECT_EQ(pixel(*image, 1, 0), (Rgb{0, 0, 0}));
  EXPECT_EQ(pixel(*image, 2, 0), (Rgb{255, 255, 255}));
}

TEST(ImageDecoder, GreyAlphaPngDropsAlpha) {
  const std::string png = fx::make_png(2, 1, 8, 4, {std::string("\x40\x00\xC0\x80", 4)});
  auto image = decode_image(as_bytes(png));
  ASSERT_TRUE(image.ok()) << image.error().to_string();
  EXPECT_EQ(pixel(*image, 0, 0), (Rgb{64, 64, 64}));  // alpha 0: colour kept, not composited
  EXPECT_EQ(pixel(*image, 1, 0), (Rgb{192, 192, 192}));
}

TEST(ImageDecoder, RgbaPngDropsAlphaWithoutCompositing) {
  const std::string png =
      fx::make_png(2, 1, 8, 6, {std::string("\x10\x20\x30\x00\xF0\xE0\xD0\x7F", 8)});
  auto image = decode_image(as_bytes(png));
  ASSERT_TRUE(image.ok()) << image.error().to_string();
  EXPECT_EQ(pixel(*image, 0, 0), (Rgb{0x10, 0x20, 0x30}));
  EXPECT_EQ(pixel(*image, 1, 0), (Rgb{0xF0, 0xE0, 0xD0}));
}

TEST(ImageDecoder, PalettePngWithTransparencyIsLookedUp) {
  const std::string palette =
      fx::png_chunk("PLTE", std::string("\xFF\x00\x00\x00\xFF\x00\x01\x02\x03", 9)) +
      fx::png_chunk("tRNS", std::string("\xFF\x00", 2));
  const std::string png = fx::make_png(3, 1, 8, 3, {std::string("\x02\x01\x00", 3)}, palette);
  auto image = decode_image(as_bytes(png));
  ASSERT_TRUE(image.ok()) << image.error().to_string();
  EXPECT_EQ(pixel(*image, 0, 0), (Rgb{1, 2, 3}));
  EXPECT_EQ(pixel(*image, 1, 0), (Rgb{0, 255, 0}));  // transparent entry: its colour, as Pillow
  EXPECT_EQ(pixel(*image, 2, 0), (Rgb{255, 0, 0}));
}

TEST(ImageDecoder, SixteenBitPngKeepsTheHighByte) {
  const std::string rgb16 = fx::make_png(1, 1, 16, 2, {std::string("\x12\xFF\xAB\x01\xFE\x80", 6)});
  auto image = decode_image(as_bytes(rgb16));
  ASSERT_TRUE(image.ok()) << image.error().to_string();
  EXPECT_EQ(pixel(*image, 0, 0), (Rgb{0x12, 0xAB, 0xFE}));
  const std::string grey16 = fx::make_png(2, 1, 16, 0, {std::string("\x80\x7F\xFF\xFF", 4)});
  auto grey = decode_image(as_bytes(grey16));
  ASSERT_TRUE(grey.ok()) << grey.error().to_string();
  EXPECT_EQ(pixel(*grey, 0, 0), (Rgb{0x80, 0x80, 0x80}));
  EXPECT_EQ(pixel(*grey, 1, 0), (Rgb{0xFF, 0xFF, 0xFF}));
}

TEST(ImageDecoder, GifTakesTheFirstFrame) {
  const std::array<std::uint8_t, 12> palette = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30};
  const std::vector<int> first = {0, 1, 2, 3, 3, 2, 1, 0, 0, 0, 1, 1};
  const std::vector<int> second(12, 2);
  const std::string gif = fx::make_gif(4, 3, palette, {{4, 3, first}, {4, 3, second}});
  auto image = decode_image(as_bytes(gif));
  ASSERT_TRUE(image.ok()) << image.error().to_string();
  ASSERT_EQ(image->width, 4);
  ASSERT_EQ(image->height, 3);
  for (int i = 0; i < 12; ++i) {
    const std::uint8_t* expected = palette.data() + 3 * first[i];
    EXPECT_EQ(pixel(*image, i % 4, i / 4), (Rgb{expected[0], expected[1], expected[2]})) << i;
  }
  auto info = probe_image(as_bytes(gif));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->format, "gif");
}

TEST(ImageDecoder, BmpDecodesExactly) {
  const int w = 5;  // odd width: rows are padded to 4 bytes
  const int h = 3;
  const std::vector<std::uint8_t> rgb = gradient(w, h);
  auto image = decode_image(as_bytes(fx::make_bmp(w, h, rgb)));
  if (!image.ok() && image.error().code == ErrorCode::kUnsupported) {
    GTEST_SKIP() << "no BMP decoder in this libvips: " << image.error().message;
  }
  ASSERT_TRUE(image.ok()) << image.error().to_string();
  EXPECT_EQ(image->width, w);
  EXPECT_EQ(image->height, h);
  EXPECT_EQ(image->pixels, rgb);
}

TEST(ImageDecoder, CmykJpegConvertsToRgb) {
  auto image = decode_image_file(conformance_dir() / "images" / "cmyk_400x300.jpg");
  ASSERT_TRUE(image.ok()) << image.error().to_string();
  EXPECT_EQ(image->width, 400);
  EXPECT_EQ(image->height, 300);
  EXPECT_TRUE(image->valid());
}

// ---------------------------------------------------------------- round trip, threads

TEST(ImageDecoder, PngWriterRoundTrips) {
  RgbImage image = RgbImage::blank(13, 7);
  std::mt19937 rng(9);
  for (auto& p : image.pixels) p = static_cast<std::uint8_t>(rng());
  lookalike::testing::TempDir dir;
  ASSERT_TRUE(write_png(dir / "out.png", image).ok());
  auto decoded = decode_image_file(dir / "out.png");
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  EXPECT_EQ(decoded->width, 13);
  EXPECT_EQ(decoded->height, 7);
  EXPECT_EQ(decoded->pixels, image.pixels);
  EXPECT_FALSE(write_png(dir / "bad.png", RgbImage{}).ok());
}

TEST(ImageDecoder, ConcurrentDecodesAgree) {
  const std::string jpeg = conformance_image("progressive_1024x683.jpg");
  const std::string png = conformance_image("palette_257x190.png");
  auto jpeg_reference = decode_image(as_bytes(jpeg));
  auto png_reference = decode_image(as_bytes(png));
  ASSERT_TRUE(jpeg_reference.ok() && png_reference.ok());
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3; ++i) {
        auto a = decode_image(as_bytes(jpeg));
        auto b = decode_image(as_bytes(png));
        if (!a.ok() || a->pixels != jpeg_reference->pixels) ++mismatches[t];
        if (!b.ok() || b->pixels != png_reference->pixels) ++mismatches[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace lookalike::image
