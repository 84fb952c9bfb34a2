// ClipPreprocessor: HF resize-size arithmetic, crop window, tensor layout and float32 rounding.
#include "image/clip_preprocessor.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "image/bicubic_resampler.h"
#include "image/center_crop.h"

namespace lookalike::image {
namespace {

RgbImage random_image(int width, int height, unsigned seed) {
  std::mt19937 rng(seed);
  RgbImage image = RgbImage::blank(width, height);
  for (auto& p : image.pixels) p = static_cast<std::uint8_t>(rng());
  return image;
}

TEST(ClipPreprocessor, ResizedSizeFollowsHfShortestEdgeTruncation) {
  const ClipPreprocessor pre{PreprocessConfig{}};
  using Size = std::array<int, 2>;
  EXPECT_EQ(pre.resized_size(640, 480), (Size{298, 224}));   // int(224 * 640 / 480) = 298
  EXPECT_EQ(pre.resized_size(480, 800), (Size{224, 373}));   // 373.33 → 373
  EXPECT_EQ(pre.resized_size(1024, 683), (Size{335, 224}));  // 335.83 → 335
  EXPECT_EQ(pre.resized_size(1600, 200), (Size{1792, 224}));
  EXPECT_EQ(pre.resized_size(40, 30), (Size{298, 224}));
  EXPECT_EQ(pre.resized_size(333, 517), (Size{224, 347}));  // 347.77 → 347
  EXPECT_EQ(pre.resized_size(300, 300), (Size{224, 224}));
  EXPECT_EQ(pre.resized_size(224, 500), (Size{224, 500}));  // short edge already 224: unchanged
  EXPECT_EQ(pre.resized_size(3, 7), (Size{224, 522}));      // 522.66 → 522
}

TEST(ClipPreprocessor, CropOfResizeEqualsCenterCropOfFullResize) {
  const ClipPreprocessor pre{PreprocessConfig{}};
  for (const auto& [w, h] : {std::pair{640, 480}, std::pair{333, 517}, std::pair{40, 30},
                             std::pair{257, 190}, std::pair{224, 224}, std::pair{225, 1000}}) {
    const RgbImage src = random_image(w, h, static_cast<unsigned>(w * 1000 + h));
    const auto [rw, rh] = pre.resized_size(w, h);
    const RgbImage expected = center_crop(resize_bicubic(src, rw, rh), 224, 224);
    const RgbImage actual = pre.resize_and_crop(src);
    ASSERT_EQ(actual.width, 224);
    ASSERT_EQ(actual.height, 224);
    EXPECT_EQ(actual.pixels, expected.pixels) << w << "x" << h;
  }
}

TEST(ClipPreprocessor, TensorIsChwWithNumpyFloat32Rounding) {
  const PreprocessConfig config;
  const ClipPreprocessor pre{config};
  RgbImage image = RgbImage::blank(224, 224);
  for (int y = 0; y < 224; ++y) {
    for (int x = 0; x < 224; ++x) {
      std::uint8_t* p = image.row(y) + 3 * x;
      p[0] = static_cast<std::uint8_t>(x);
      p[1] = static_cast<std::uint8_t>(y);
      p[2] = static_cast<std::uint8_t>((x + y) & 255);
    }
  }
  const std::vector<float> tensor = pre.preprocess(image);
  ASSERT_EQ(tensor.size(), 3u * 224 * 224);
  auto expected = [&](int c, int v) {
    const float scaled = static_cast<float>(v) * static_cast<float>(config.rescale_factor);
    const float centred = scaled - static_cast<float>(config.image_mean[c]);
    return centred / static_cast<float>(config.image_std[c]);
  };
  const std::size_t plane = 224 * 224;
  EXPECT_EQ(tensor[0 * plane + 5 * 224 + 9], expected(0, 9));
  EXPECT_EQ(tensor[1 * plane + 5 * 224 + 9], expected(1, 5));
  EXPECT_EQ(tensor[2 * plane + 5 * 224 + 9], expected(2, 14));
  EXPECT_EQ(tensor[2 * plane + 223 * 224 + 223], expected(2, (223 + 223) & 255));
  EXPECT_NEAR(tensor[0], (0 / 255.0 - 0.48145466) / 0.26862954, 1e-6);
}

TEST(ClipPreprocessor, SmallImageWithoutResizeIsZeroPadded) {
  PreprocessConfig config;
  config.do_resize = false;
  const ClipPreprocessor pre{config};
  RgbImage image = RgbImage::blank(10, 4);
  std::fill(image.pixels.begin(), image.pixels.end(), 255);
  const RgbImage cropped = pre.resize_and_crop(image);
  ASSERT_EQ(cropped.width, 224);
  ASSERT_EQ(cropped.height, 224);
  EXPECT_EQ(cropped.at(0, 0)[0], 0);
  EXPECT_EQ(cropped.at(107, 110)[0], 255);  // x from ceil(214/2)=107, y from 110
  EXPECT_EQ(cropped.at(106, 110)[0], 0);
  const std::vector<float> tensor = pre.preprocess(image);
  EXPECT_NEAR(tensor[0], -0.48145466 / 0.26862954, 1e-6);  // padding is black, then normalised
}

TEST(ClipPreprocessor, NoCenterCropKeepsTheResizedShape) {
  PreprocessConfig config;
  config.do_center_crop = false;
  const ClipPreprocessor pre{config};
  EXPECT_EQ(pre.output_width(), 0);
  const RgbImage out = pre.resize_and_crop(random_image(640, 480, 1));
  EXPECT_EQ(out.width, 298);
  EXPECT_EQ(out.height, 224);
  EXPECT_EQ(pre.preprocess(random_image(640, 480, 1)).size(), 3u * 298 * 224);
}

TEST(ClipPreprocessor, ExactSizeResize) {
  PreprocessConfig config;
  config.shortest_edge = 0;
  config.resize_width = 256;
  config.resize_height = 240;
  const ClipPreprocessor pre{config};
  const RgbImage src = random_image(100, 300, 2);
  EXPECT_EQ(pre.resized_size(100, 300), (std::array<int, 2>{256, 240}));
  EXPECT_EQ(pre.resize_and_crop(src).pixels,
            center_crop(resize_bicubic(src, 256, 240), 224, 224).pixels);
}

TEST(ClipPreprocessor, ExtremeAspectRatioStaysBounded) {
  const ClipPreprocessor pre{PreprocessConfig{}};
  const RgbImage strip = random_image(1, 30000, 3);  // resize would be 224 x 6,720,000
  const std::vector<float> tensor = pre.preprocess(strip);
  ASSERT_EQ(tensor.size(), 3u * 224 * 224);
  for (float v : tensor) ASSERT_TRUE(std::isfinite(v));
}

TEST(ClipPreprocessor, DisabledRescaleAndNormalizePassValuesThrough) {
  PreprocessConfig config;
  config.do_rescale = false;
  config.do_normalize = false;
  const ClipPreprocessor pre{config};
  RgbImage image = RgbImage::blank(224, 224);
  image.row(0)[0] = 200;
  const std::vector<float> tensor = pre.preprocess(image);
  EXPECT_EQ(tensor[0], 200.0f);
  EXPECT_EQ(tensor[1], 0.0f);
}

}  // namespace
}  // namespace lookalike::image
