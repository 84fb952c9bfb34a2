// The resampler against (1) byte files produced by Pillow itself, (2) a line-by-line
// transliteration of Pillow's Resample.c, and (3) a plain double-precision convolution.
#include "image/bicubic_resampler.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "image/center_crop.h"
#include "test_support.h"

namespace lookalike::image {
namespace {

const std::filesystem::path kDataDir = std::filesystem::path(__FILE__).parent_path() / "data";

RgbImage random_image(std::mt19937& rng, int width, int height) {
  RgbImage image = RgbImage::blank(width, height);
  // Mix flat areas (exercise clipping at 0/255 with negative lobes) and noise.
  std::uniform_int_distribution<int> byte(0, 255);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) {
        int v = byte(rng);
        if ((x / 4 + y / 3) % 3 == 0) v = (x + y) % 2 == 0 ? 255 : 0;
        image.row(y)[3 * x + c] = static_cast<std::uint8_t>(v);
      }
    }
  }
  return image;
}

// ---- (2) Pillow's Resample.c, transliterated without any restructuring. ----

double ref_filter(ResampleFilter filter, double x) {
  switch (filter) {
    case ResampleFilter::kBox:
      return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0;
    case ResampleFilter::kBilinear:
      x = std::abs(x);
      return x < 1.0 ? 1.0 - x : 0.0;
    case ResampleFilter::kHamming:
      x = std::abs(x);
      if (x == 0.0) return 1.0;
      if (x >= 1.0) return 0.0;
      x *= std::numbers::pi;
      return std::sin(x) / x * (0.54f + 0.46f * std::cos(x));
    case ResampleFilter::kBicubic: {
      const double a = -0.5;
      x = std::abs(x);
      if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
      if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
      return 0.0;
    }
    case ResampleFilter::kLanczos: {
      auto sinc = [](double v) {
        if (v == 0.0) return 1.0;
        v *= std::numbers::pi;
        return std::sin(v) / v;
      };
      return (-3.0 <= x && x < 3.0) ? sinc(x) * sinc(x / 3) : 0.0;
    }
    case ResampleFilter::kNearest:
      break;
  }
  return 0.0;
}

double ref_support(ResampleFilter filter) {
  switch (filter) {
    case ResampleFilter::kBox:
      return 0.5;
    case ResampleFilter::kBilinear:
      return 1.0;
    case ResampleFilter::kHamming:
      return 1.0;
    case ResampleFilter::kBicubic:
      return 2.0;
    case ResampleFilter::kLanczos:
      return 3.0;
    case ResampleFilter::kNearest:
      break;
  }
  return 0.0;
}

struct RefCoeffs {
  int ksize;
  std::vector<int> bounds;
  std::vector<double> kk;
};

RefCoeffs precompute_coeffs(int in_size, int out_size, ResampleFilter filter) {
  RefCoeffs c;
  double scale = static_cast<double>(in_size) / out_size;
  double filterscale = scale < 1.0 ? 1.0 : scale;
  double support = ref_support(filter) * filterscale;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.kk.assign(static_cast<std::size_t>(out_size) * c.ksize, 0.0);
  c.bounds.assign(static_cast<std::size_t>(out_size) * 2, 0);
  for (int xx = 0; xx < out_size; ++xx) {
    double center = (xx + 0.5) * scale;
    double ww = 0.0;
    double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double* k = &c.kk[static_cast<std::size_t>(xx) * c.ksize];
    for (int x = 0; x < xmax; ++x) {
      double w = ref_filter(filter, (x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; ++x) {
      if (ww != 0.0) k[x] /= ww;
    }
    c.bounds[2 * xx] = xmin;
    c.bounds[2 * xx + 1] = xmax;
  }
  return c;
}

std::vector<int> normalize_coeffs_8bpc(const std::vector<double>& kk) {
  std::vector<int> out(kk.size());
  for (std::size_t i = 0; i < kk.size(); ++i) {
    out[i] = kk[i] < 0 ? static_cast<int>(-0.5 + kk[i] * (1 << 22))
                       : static_cast<int>(0.5 + kk[i] * (1 << 22));
  }
  return out;
}

std::uint8_t ref_clip8(int v) { return static_cast<std::uint8_t>(std::clamp(v >> 22, 0, 255)); }

// Pillow's ImagingResampleInner for RGB, both passes over whole images.
RgbImage pillow_reference(const RgbImage& in, int width, int height, ResampleFilter filter) {
  RgbImage temp = in;
  if (width != in.width) {
    RefCoeffs c = precompute_coeffs(in.width, width, filter);
    std::vector<int> k = normalize_coeffs_8bpc(c.kk);
    temp = RgbImage::blank(width, in.height);
    for (int y = 0; y < in.height; ++y) {
      for (int xx = 0; xx < width; ++xx) {
        for (int ch = 0; ch < 3; ++ch) {
          int ss = 1 << 21;
          for (int x = 0; x < c.bounds[2 * xx + 1]; ++x) {
            ss +=
                in.at(x + c.bounds[2 * xx], y)[ch] * k[static_cast<std::size_t>(xx) * c.ksize + x];
          }
          temp.row(y)[3 * xx + ch] = ref_clip8(ss);
        }
      }
    }
  }
  if (height == in.height) return temp;
  RefCoeffs c = precompute_coeffs(in.height, height, filter);
  std::vector<int> k = normalize_coeffs_8bpc(c.kk);
  RgbImage out = RgbImage::blank(temp.width, height);
  for (int yy = 0; yy < height; ++yy) {
    for (int x = 0; x < temp.width; ++x) {
      for (int ch = 0; ch < 3; ++ch) {
        int ss = 1 << 21;
        for (int y = 0; y < c.bounds[2 * yy + 1]; ++y) {
          ss +=
              temp.at(x, y + c.bounds[2 * yy])[ch] * k[static_cast<std::size_t>(yy) * c.ksize + y];
        }
        out.row(yy)[3 * x + ch] = ref_clip8(ss);
      }
    }
  }
  return out;
}

// ---- (3) The same convolution in doubles, rounding to 8 bits after each pass. ----
RgbImage double_reference(const RgbImage& in, int width, int height, ResampleFilter filter) {
  auto pass = [&](const RgbImage& src, int out_size, bool horizontal) {
    const int in_size = horizontal ? src.width : src.height;
    RefCoeffs c = precompute_coeffs(in_size, out_size, filter);
    RgbImage out =
        horizontal ? RgbImage::blank(out_size, src.height) : RgbImage::blank(src.width, out_size);
    for (int y = 0; y < out.height; ++y) {
      for (int x = 0; x < out.width; ++x) {
        const int o = horizontal ? x : y;
        for (int ch = 0; ch < 3; ++ch) {
          double sum = 0;
          for (int i = 0; i < c.bounds[2 * o + 1]; ++i) {
            const int s = c.bounds[2 * o] + i;
            const std::uint8_t v = horizontal ? src.at(s, y)[ch] : src.at(x, s)[ch];
            sum += v * c.kk[static_cast<std::size_t>(o) * c.ksize + i];
          }
          out.row(y)[3 * x + ch] =
              static_cast<std::uint8_t>(std::clamp(std::lround(sum), 0L, 255L));
        }
      }
    }
    return out;
  };
  RgbImage temp = width != in.width ? pass(in, width, true) : in;
  return height != in.height ? pass(temp, height, false) : temp;
}

int max_difference(const RgbImage& a, const RgbImage& b) {
  EXPECT_EQ(a.width, b.width);
  EXPECT_EQ(a.height, b.height);
  if (a.pixels.size() != b.pixels.size()) return 256;
  int worst = 0;
  for (std::size_t i = 0; i < a.pixels.size(); ++i) {
    worst = std::max(worst, std::abs(int{a.pixels[i]} - int{b.pixels[i]}));
  }
  return worst;
}

RgbImage read_raw(const std::string& name, int width, int height) {
  const std::string bytes = lookalike::testing::read_bytes(kDataDir / name);
  RgbImage image = RgbImage::blank(width, height);
  EXPECT_EQ(bytes.size(), image.pixels.size()) << name;
  std::memcpy(image.pixels.data(), bytes.data(), std::min(bytes.size(), image.pixels.size()));
  return image;
}

constexpr ResampleFilter kConvolutionFilters[] = {
    ResampleFilter::kBicubic, ResampleFilter::kLanczos, ResampleFilter::kBilinear,
    ResampleFilter::kBox, ResampleFilter::kHamming};

TEST(BicubicResampler, MatchesBytesProducedByPillow) {
  const RgbImage input = read_raw("pillow_input_31x23.rgb", 31, 23);
  struct Case {
    const char* filter_name;
    ResampleFilter filter;
    int width;
    int height;
  };
  const Case cases[] = {
      {"bicubic", ResampleFilter::kBicubic, 11, 8},
      {"bicubic", ResampleFilter::kBicubic, 67, 49},
      {"bicubic", ResampleFilter::kBicubic, 31, 9},
      {"bicubic", ResampleFilter::kBicubic, 80, 23},
      {"bicubic", ResampleFilter::kBicubic, 7, 45},
      {"bicubic", ResampleFilter::kBicubic, 3, 2},
      {"lanczos", ResampleFilter::kLanczos, 11, 8},
      {"lanczos", ResampleFilter::kLanczos, 67, 49},
      {"bilinear", ResampleFilter::kBilinear, 11, 8},
      {"bilinear", ResampleFilter::kBilinear, 67, 49},
      {"box", ResampleFilter::kBox, 11, 8},
      {"box", ResampleFilter::kBox, 67, 49},
      {"hamming", ResampleFilter::kHamming, 11, 8},
      {"hamming", ResampleFilter::kHamming, 67, 49},
  };
  for (const auto& c : cases) {
    const std::string name = std::string("pillow_") + c.filter_name + "_" +
                             std::to_string(c.width) + "x" + std::to_string(c.height) + ".rgb";
    SCOPED_TRACE(name);
    const RgbImage expected = read_raw(name, c.width, c.height);
    const RgbImage actual = resize_pillow(input, c.width, c.height, c.filter);
    EXPECT_EQ(max_difference(actual, expected), 0);
    EXPECT_EQ(actual.pixels, expected.pixels);
  }
}

TEST(BicubicResampler, BitExactWithTransliteratedPillowOnRandomImages) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> in_size(1, 70);
  std::uniform_int_distribution<int> out_size(1, 140);
  for (int trial = 0; trial < 120; ++trial) {
    const RgbImage src = random_image(rng, in_size(rng), in_size(rng));
    const int width = out_size(rng);
    const int height = out_size(rng);
    const ResampleFilter filter = kConvolutionFilters[trial % 5];
    SCOPED_TRACE(std::to_string(src.width) + "x" + std::to_string(src.height) + " -> " +
                 std::to_string(width) + "x" + std::to_string(height) + " filter " +
                 std::to_string(static_cast<int>(filter)));
    const RgbImage actual = resize_pillow(src, width, height, filter);
    const RgbImage expected = pillow_reference(src, width, height, filter);
    ASSERT_EQ(max_difference(actual, expected), 0);
  }
}

TEST(BicubicResampler, BitExactOnTypicalPhotoScales) {
  // The shapes CLIP preprocessing produces: 3x downscale, tall, wide, small upscale.
  std::mt19937 rng(11);
  const int shapes[][4] = {{640, 480, 298, 224},
                           {480, 800, 224, 373},
                           {40, 30, 298, 224},
                           {1600, 200, 1792, 224},
                           {257, 190, 302, 224}};
  for (const auto& s : shapes) {
    const RgbImage src = random_image(rng, s[0], s[1]);
    EXPECT_EQ(max_difference(resize_bicubic(src, s[2], s[3]),
                             pillow_reference(src, s[2], s[3], ResampleFilter::kBicubic)),
              0)
        << s[0] << "x" << s[1];
  }
}

TEST(BicubicResampler, WithinTwoLevelsOfAPlainDoubleConvolution) {
  // Pillow's 22-bit fixed-point weights and per-pass rounding cost at most a level or two against
  // exact arithmetic; the bound documents that the integer path is the same filter.
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> size(2, 90);
  int worst = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const RgbImage src = random_image(rng, size(rng), size(rng));
    const int width = size(rng);
    const int height = size(rng);
    const RgbImage actual = resize_bicubic(src, width, height);
    worst = std::max(worst, max_difference(actual, double_reference(src, width, height,
                                                                    ResampleFilter::kBicubic)));
  }
  std::printf("max |fixed-point - double| = %d\n", worst);
  EXPECT_LE(worst, 2);
}

TEST(BicubicResampler, WindowIsExactlyTheCropOfTheFullResize) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> size(1, 80);
  for (int trial = 0; trial < 80; ++trial) {
    const RgbImage src = random_image(rng, size(rng), size(rng));
    const int width = size(rng);
    const int height = size(rng);
    std::uniform_int_distribution<int> wx(0, width - 1);
    std::uniform_int_distribution<int> wy(0, height - 1);
    ResizeWindow window;
    window.x = wx(rng);
    window.y = wy(rng);
    window.width = std::uniform_int_distribution<int>(0, width - window.x)(rng);
    window.height = std::uniform_int_distribution<int>(0, height - window.y)(rng);
    const ResampleFilter filter = kConvolutionFilters[trial % 5];
    const RgbImage full = resize_pillow(src, width, height, filter);
    const RgbImage part = resize_pillow_window(src, width, height, filter, window);
    ASSERT_EQ(part.width, window.width);
    ASSERT_EQ(part.height, window.height);
    for (int y = 0; window.width > 0 && y < window.height; ++y) {
      ASSERT_EQ(0, std::memcmp(part.row(y), full.at(window.x, window.y + y), part.row_bytes()))
          << "trial " << trial << " row " << y;
    }
  }
}

TEST(BicubicResampler, SameSizeIsACopy) {
  std::mt19937 rng(1);
  const RgbImage src = random_image(rng, 17, 9);
  EXPECT_EQ(resize_bicubic(src, 17, 9).pixels, src.pixels);
}

TEST(BicubicResampler, SinglePixelSourcesAndTargets) {
  std::mt19937 rng(2);
  const RgbImage one = random_image(rng, 1, 1);
  const RgbImage up = resize_bicubic(one, 5, 3);
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 5; ++x) EXPECT_EQ(0, std::memcmp(up.at(x, y), one.at(0, 0), 3));
  }
  const RgbImage src = random_image(rng, 40, 30);
  EXPECT_EQ(max_difference(resize_bicubic(src, 1, 1),
                           pillow_reference(src, 1, 1, ResampleFilter::kBicubic)),
            0);
}

TEST(BicubicResampler, ExtremeAspectWindowDoesNotMaterialiseTheFullResize) {
  // 2x20000 → shortest edge 224 would be 224 x 2,240,000 (1.5 GB); the window is 224x224.
  const RgbImage src = RgbImage::blank(2, 20000);
  const RgbImage part = resize_pillow_window(src, 224, 2'240'000, ResampleFilter::kBicubic,
                                             ResizeWindow{0, 1'120'000 - 112, 224, 224});
  EXPECT_EQ(part.width, 224);
  EXPECT_EQ(part.height, 224);
}

TEST(BicubicResampler, KernelWeightsSumToOne) {
  for (const auto& [in, out] : {std::pair{640, 298}, std::pair{30, 224}, std::pair{1600, 7}}) {
    const ResampleKernel kernel(in, out, ResampleFilter::kBicubic);
    for (int i = 0; i < out; ++i) {
      long long sum = 0;
      for (int j = 0; j < kernel.count(i); ++j) sum += kernel.weights(i)[j];
      EXPECT_NEAR(static_cast<double>(sum), 1 << ResampleKernel::kPrecisionBits,
                  kernel.kernel_size());
      EXPECT_GE(kernel.first(i), 0);
      EXPECT_LE(kernel.first(i) + kernel.count(i), in);
    }
  }
}

}  // namespace
}  // namespace lookalike::image
