// center_crop follows Hugging Face image_transforms.center_crop: floor offsets when cutting,
// ceil offsets (zero padding) when the image is smaller than the crop.
#include "image/center_crop.h"

#include <gtest/gtest.h>

namespace lookalike::image {
namespace {

// Pixel (x, y) holds (x, y, 7) so its origin can be read back.
RgbImage coordinate_image(int width, int height) {
  RgbImage image = RgbImage::blank(width, height);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      std::uint8_t* p = image.row(y) + 3 * x;
      p[0] = static_cast<std::uint8_t>(x);
      p[1] = static_cast<std::uint8_t>(y);
      p[2] = 7;
    }
  }
  return image;
}

TEST(CenterCrop, EvenDifferenceIsCentred) {
  const RgbImage out = center_crop(coordinate_image(10, 8), 6, 4);
  ASSERT_EQ(out.width, 6);
  ASSERT_EQ(out.height, 4);
  EXPECT_EQ(out.at(0, 0)[0], 2);
  EXPECT_EQ(out.at(0, 0)[1], 2);
}

TEST(CenterCrop, OddDifferenceRoundsTheOffsetDown) {
  // HF: top = (h - crop) // 2 → (301 - 224) // 2 = 38; (333 - 224) // 2 = 54.
  const RgbImage out = center_crop(coordinate_image(250, 251), 224, 224);
  EXPECT_EQ(out.at(0, 0)[0], (250 - 224) / 2);
  EXPECT_EQ(out.at(0, 0)[1], (251 - 224) / 2);  // 13, not 14
  EXPECT_EQ(out.at(223, 223)[0], static_cast<std::uint8_t>(13 + 223));
  const RgbImage odd = center_crop(coordinate_image(5, 4), 2, 1);
  EXPECT_EQ(odd.at(0, 0)[0], 1);  // (5 - 2) // 2
  EXPECT_EQ(odd.at(0, 0)[1], 1);  // (4 - 1) // 2
}

TEST(CenterCrop, SmallerImageIsPaddedWithZerosCeilOffset) {
  // HF pads to max(crop, size) with top_pad = ceil((crop - h) / 2), then the crop is the canvas.
  const RgbImage out = center_crop(coordinate_image(3, 2), 6, 5);
  ASSERT_EQ(out.width, 6);
  ASSERT_EQ(out.height, 5);
  // x: ceil(3/2) = 2, y: ceil(3/2) = 2.
  for (int y = 0; y < 5; ++y) {
    for (int x = 0; x < 6; ++x) {
      const bool inside = x >= 2 && x < 5 && y >= 2 && y < 4;
      const std::uint8_t* p = out.at(x, y);
      if (inside) {
        EXPECT_EQ(p[0], x - 2);
        EXPECT_EQ(p[1], y - 2);
        EXPECT_EQ(p[2], 7);
      } else {
        EXPECT_EQ(p[0] | p[1] | p[2], 0) << x << "," << y;
      }
    }
  }
}

TEST(CenterCrop, MixedAxesCutOneAndPadTheOther) {
  const RgbImage out = center_crop(coordinate_image(9, 2), 4, 5);
  // x: cut at (9 - 4) // 2 = 2; y: pad at ceil((5 - 2) / 2) = 2.
  EXPECT_EQ(out.at(0, 2)[0], 2);
  EXPECT_EQ(out.at(0, 2)[1], 0);
  EXPECT_EQ(out.at(3, 3)[0], 5);
  EXPECT_EQ(out.at(3, 3)[1], 1);
  EXPECT_EQ(out.at(0, 0)[2], 0);
  EXPECT_EQ(out.at(0, 4)[2], 0);
}

TEST(CenterCrop, SameSizeIsIdentity) {
  const RgbImage in = coordinate_image(7, 3);
  EXPECT_EQ(center_crop(in, 7, 3).pixels, in.pixels);
}

}  // namespace
}  // namespace lookalike::image
