#include "image/bicubic_resampler.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numbers>
#include <stdexcept>

// The two passes are built for AVX2 as well as the baseline and picked at load time (GCC/Clang
// ifunc); integer arithmetic makes both versions produce identical bytes.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__)
#define LOOKALIKE_MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define LOOKALIKE_MULTIVERSION
#endif

namespace lookalike::image {
namespace {

// The filters of Pillow's Resample.c, verbatim in behaviour.
double box_filter(double x) {
  if (x > -0.5 && x <= 0.5) return 1.0;
  return 0.0;
}

double bilinear_filter(double x) {
  if (x < 0.0) x = -x;
  if (x < 1.0) return 1.0 - x;
  return 0.0;
}

double hamming_filter(double x) {
  if (x < 0.0) x = -x;
  if (x == 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  x = x * std::numbers::pi;
  return std::sin(x) / x * (0.54f + 0.46f * std::cos(x));
}

double bicubic_filter(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

double sinc_filter(double x) {
  if (x == 0.0) return 1.0;
  x = x * std::numbers::pi;
  return std::sin(x) / x;
}

double lanczos_filter(double x) {
  // Truncated sinc, a = 3.
  if (-3.0 <= x && x < 3.0) return sinc_filter(x) * sinc_filter(x / 3);
  return 0.0;
}

struct Filter {
  double (*function)(double);
  double support;
};

Filter filter_for(ResampleFilter filter) {
  switch (filter) {
    case ResampleFilter::kBox:
      return {box_filter, 0.5};
    case ResampleFilter::kBilinear:
      return {bilinear_filter, 1.0};
    case ResampleFilter::kHamming:
      return {hamming_filter, 1.0};
    case ResampleFilter::kBicubic:
      return {bicubic_filter, 2.0};
    case ResampleFilter::kLanczos:
      return {lanczos_filter, 3.0};
    case ResampleFilter::kNearest:
      break;
  }
  throw std::invalid_argument("ResampleKernel: nearest is not a convolution filter");
}

// Pillow's clip8: the accumulator carries 2^(kPrecisionBits-1) for rounding, then shifts.
inline std::uint8_t clip8(std::int32_t value) {
  value >>= ResampleKernel::kPrecisionBits;
  return static_cast<std::uint8_t>(value < 0 ? 0 : (value > 255 ? 255 : value));
}

constexpr std::int32_t kRoundingBias = 1 << (ResampleKernel::kPrecisionBits - 1);

// Rows the horizontal pass filters together: their pixels are interleaved column-major into a
// tile so that each tap multiplies kTileLanes contiguous bytes (a loop the compiler vectorises).
constexpr int kTileRows = 8;
constexpr int kTileLanes = kTileRows * RgbImage::kChannels;

// Horizontal pass: out row y is source row row_begin + y; out column x is kernel index x.
// The integer arithmetic is Pillow's (ImagingResampleHorizontal_8bpc), only the order of the
// loops differs, so the result is bit-identical on every code path.
LOOKALIKE_MULTIVERSION
void resample_horizontal(const RgbImage& src, int row_begin, const ResampleKernel& kernel,
                         RgbImage& out) {
  const int col_first = kernel.first(0);
  const int col_last = kernel.first(out.width - 1) + kernel.count(out.width - 1);
  const int cols = col_last - col_first;
  std::vector<std::uint8_t> tile(static_cast<std::size_t>(cols) * kTileLanes);
  int y = 0;
  for (; y + kTileRows <= out.height; y += kTileRows) {
    for (int r = 0; r < kTileRows; ++r) {
      const std::uint8_t* in = src.row(row_begin + y + r) + 3 * col_first;
      std::uint8_t* t = tile.data() + 3 * r;
      for (int x = 0; x < cols; ++x) {
        t[x * kTileLanes + 0] = in[3 * x + 0];
        t[x * kTileLanes + 1] = in[3 * x + 1];
        t[x * kTileLanes + 2] = in[3 * x + 2];
      }
    }
    for (int x = 0; x < out.width; ++x) {
      const std::uint8_t* p =
          tile.data() + static_cast<std::size_t>(kernel.first(x) - col_first) * kTileLanes;
      const std::int32_t* k = kernel.weights(x);
      const int n = kernel.count(x);
      std::int32_t acc[kTileLanes];
      for (int j = 0; j < kTileLanes; ++j) acc[j] = kRoundingBias;
      for (int i = 0; i < n; ++i) {
        const std::int32_t w = k[i];
        const std::uint8_t* q = p + static_cast<std::size_t>(i) * kTileLanes;
        for (int j = 0; j < kTileLanes; ++j) acc[j] += q[j] * w;
      }
      for (int r = 0; r < kTileRows; ++r) {
        std::uint8_t* dst = out.row(y + r) + 3 * x;
        dst[0] = clip8(acc[3 * r + 0]);
        dst[1] = clip8(acc[3 * r + 1]);
        dst[2] = clip8(acc[3 * r + 2]);
      }
    }
  }
  for (; y < out.height; ++y) {  // the last rows, one at a time
    const std::uint8_t* in = src.row(row_begin + y);
    std::uint8_t* dst = out.row(y);
    for (int x = 0; x < out.width; ++x) {
      const std::uint8_t* p = in + 3 * kernel.first(x);
      const std::int32_t* k = kernel.weights(x);
      const int n = kernel.count(x);
      std::int32_t s0 = kRoundingBias;
      std::int32_t s1 = kRoundingBias;
      std::int32_t s2 = kRoundingBias;
      for (int i = 0; i < n; ++i) {
        s0 += p[3 * i + 0] * k[i];
        s1 += p[3 * i + 1] * k[i];
        s2 += p[3 * i + 2] * k[i];
      }
      dst[3 * x + 0] = clip8(s0);
      dst[3 * x + 1] = clip8(s1);
      dst[3 * x + 2] = clip8(s2);
    }
  }
}

// Vertical pass (ImagingResampleVertical_8bpc): out row y (kernel index y) reads source rows
// first(y) - row_shift ..., starting at column col_begin. Whole rows at a time so the inner loop
// runs over contiguous bytes (vectorises).
LOOKALIKE_MULTIVERSION
void resample_vertical(const RgbImage& src, int col_begin, int row_shift,
                       const ResampleKernel& kernel, RgbImage& out) {
  const std::size_t row_bytes = out.row_bytes();
  const std::size_t col_offset = static_cast<std::size_t>(col_begin) * RgbImage::kChannels;
  std::vector<std::int32_t> acc(row_bytes);
  for (int y = 0; y < out.height; ++y) {
    std::fill(acc.begin(), acc.end(), kRoundingBias);
    const std::int32_t* k = kernel.weights(y);
    const int first = kernel.first(y) - row_shift;
    const int n = kernel.count(y);
    std::int32_t* a = acc.data();
    for (int i = 0; i < n; ++i) {
      const std::uint8_t* in = src.row(first + i) + col_offset;
      const std::int32_t w = k[i];
      for (std::size_t j = 0; j < row_bytes; ++j) a[j] += in[j] * w;
    }
    std::uint8_t* dst = out.row(y);
    for (std::size_t j = 0; j < row_bytes; ++j) dst[j] = clip8(a[j]);
  }
}

RgbImage copy_window(const RgbImage& src, const ResizeWindow& window) {
  RgbImage out = RgbImage::blank(window.width, window.height);
  for (int y = 0; y < window.height; ++y) {
    std::copy_n(src.row(window.y + y) + static_cast<std::size_t>(window.x) * 3, out.row_bytes(),
                out.row(y));
  }
  return out;
}

}  // namespace

ResampleKernel::ResampleKernel(int in_size, int out_size, ResampleFilter filter, int out_begin,
                               int out_count)
    : in_size_(in_size),
      out_size_(out_size),
      out_begin_(out_begin),
      out_count_(out_count < 0 ? out_size - out_begin : out_count) {
  if (in_size <= 0 || out_size <= 0) throw std::invalid_argument("ResampleKernel: empty size");
  if (out_begin_ < 0 || out_count_ < 0 || out_begin_ + out_count_ > out_size) {
    throw std::invalid_argument("ResampleKernel: window outside the output");
  }
  const Filter f = filter_for(filter);
  // precompute_coeffs() with the box [0, in_size], as Image.resize passes it.
  const float in0 = 0.0f;
  const float in1 = static_cast<float>(in_size);
  const double scale = static_cast<double>(in1 - in0) / out_size;
  double filterscale = scale;
  if (filterscale < 1.0) filterscale = 1.0;
  const double support = f.support * filterscale;
  kernel_size_ = static_cast<int>(std::ceil(support)) * 2 + 1;

  bounds_.resize(static_cast<std::size_t>(out_count_) * 2);
  weights_.assign(static_cast<std::size_t>(out_count_) * kernel_size_, 0);
  std::vector<double> k(kernel_size_);
  for (int i = 0; i < out_count_; ++i) {
    const int xx = out_begin_ + i;
    const double center = in0 + (xx + 0.5) * scale;
    double ww = 0.0;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    for (int x = 0; x < xmax; ++x) {
      const double w = f.function((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    std::int32_t* fixed = weights_.data() + static_cast<std::size_t>(i) * kernel_size_;
    for (int x = 0; x < xmax; ++x) {
      if (ww != 0.0) k[x] /= ww;
      // normalize_coeffs_8bpc()
      const double scaled = k[x] * (1 << kPrecisionBits);
      fixed[x] = static_cast<std::int32_t>(k[x] < 0 ? -0.5 + scaled : 0.5 + scaled);
    }
    bounds_[2 * i] = xmin;
    bounds_[2 * i + 1] = xmax;
  }
}

RgbImage resize_pillow_window(const RgbImage& src, int width, int height, ResampleFilter filter,
                              const ResizeWindow& window) {
  assert(src.valid());
  if (window.x < 0 || window.y < 0 || window.width < 0 || window.height < 0 ||
      window.x + window.width > width || window.y + window.height > height) {
    throw std::invalid_argument("resize_pillow_window: window outside the output");
  }
  if (window.width == 0 || window.height == 0 || src.empty()) {
    return RgbImage::blank(window.width, window.height);
  }
  // Pillow skips a pass whose size does not change (and copies when neither does).
  const bool need_horizontal = width != src.width;
  const bool need_vertical = height != src.height;
  if (!need_horizontal && !need_vertical) return copy_window(src, window);

  RgbImage out = RgbImage::blank(window.width, window.height);
  if (!need_horizontal) {
    const ResampleKernel vertical(src.height, height, filter, window.y, window.height);
    resample_vertical(src, window.x, 0, vertical, out);
    return out;
  }
  const ResampleKernel horizontal(src.width, width, filter, window.x, window.width);
  if (!need_vertical) {
    resample_horizontal(src, window.y, horizontal, out);
    return out;
  }
  // Only the source rows the vertical pass reads go through the horizontal pass.
  const ResampleKernel vertical(src.height, height, filter, window.y, window.height);
  const int row_first = vertical.first(0);
  const int row_last = vertical.first(window.height - 1) + vertical.count(window.height - 1);
  RgbImage temp = RgbImage::blank(window.width, row_last - row_first);
  resample_horizontal(src, row_first, horizontal, temp);
  resample_vertical(temp, 0, row_first, vertical, out);
  return out;
}

RgbImage resize_pillow(const RgbImage& src, int width, int height, ResampleFilter filter) {
  width = std::max(width, 0);
  height = std::max(height, 0);
  return resize_pillow_window(src, width, height, filter, ResizeWindow{0, 0, width, height});
}

RgbImage resize_bicubic(const RgbImage& src, int width, int height) {
  return resize_pillow(src, width, height, ResampleFilter::kBicubic);
}

}  // namespace lookalike::image
