// Conformance: decode + CLIP preprocessing of every reference image must reproduce the tensor the
// PyTorch/Pillow reference fed its vision tower (shared/clip/conformance/pixels/*.f32).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/file_util.h"
#include "image/clip_preprocessor.h"
#include "image/image_decoder.h"
#include "test_support.h"

namespace lookalike::image {
namespace {

using lookalike::testing::conformance_dir;
using lookalike::testing::vocab_dir;

std::vector<float> read_f32(const std::filesystem::path& path) {
  const std::string bytes = lookalike::testing::read_bytes(path);
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));  // little-endian host
  return values;
}

class PreprocessConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    auto expected = read_json_file(conformance_dir() / "expected.json");
    ASSERT_TRUE(expected.ok()) << expected.error().to_string();
    expected_ = *expected;
    auto config = PreprocessConfig::load(vocab_dir());
    ASSERT_TRUE(config.ok()) << config.error().to_string();
    config_ = *config;
  }
  nlohmann::json expected_;
  PreprocessConfig config_;
};

TEST_F(PreprocessConformance, EveryReferenceTensorMatches) {
  const double max_tolerance = expected_["tolerances"]["pixel_max_abs"].get<double>();
  const double mean_tolerance = expected_["tolerances"]["pixel_mean_abs"].get<double>();
  const ClipPreprocessor preprocessor(config_);
  ASSERT_EQ(preprocessor.output_width(), 224);
  ASSERT_EQ(preprocessor.output_height(), 224);
  ASSERT_FALSE(expected_["pixels"].empty());
  for (const auto& [name, entry] : expected_["pixels"].items()) {
    SCOPED_TRACE(name);
    auto image = decode_image_file(conformance_dir() / "images" / name);
    ASSERT_TRUE(image.ok()) << image.error().to_string();
    const std::vector<float> actual = preprocessor.preprocess(*image);
    const std::vector<float> reference =
        read_f32(conformance_dir() / entry["file"].get<std::string>());
    ASSERT_EQ(reference.size(), 3u * 224 * 224);
    ASSERT_EQ(actual.size(), reference.size());
    double max_abs = 0;
    double sum_abs = 0;
    for (std::size_t i = 0; i < actual.size(); ++i) {
      const double diff = std::abs(static_cast<double>(actual[i]) - reference[i]);
      max_abs = std::max(max_abs, diff);
      sum_abs += diff;
    }
    const double mean_abs = sum_abs / static_cast<double>(actual.size());
    std::printf("%-28s %5dx%-5d max_abs=%.3g mean_abs=%.3g\n", name.c_str(), image->width,
                image->height, max_abs, mean_abs);
    EXPECT_LE(max_abs, max_tolerance);
    EXPECT_LE(mean_abs, mean_tolerance);
  }
}

TEST_F(PreprocessConformance, DecodeOnlyImagesDecodeAndPreprocess) {
  const ClipPreprocessor preprocessor(config_);
  ASSERT_FALSE(expected_["decode_only"].empty());
  for (const auto& name : expected_["decode_only"]) {
    SCOPED_TRACE(name.get<std::string>());
    auto image = decode_image_file(conformance_dir() / "images" / name.get<std::string>());
    ASSERT_TRUE(image.ok()) << image.error().to_string();
    EXPECT_GT(image->width, 0);
    EXPECT_GT(image->height, 0);
    const std::vector<float> tensor = preprocessor.preprocess(*image);
    ASSERT_EQ(tensor.size(), 3u * 224 * 224);
    for (float v : tensor) ASSERT_TRUE(std::isfinite(v));
  }
}

}  // namespace
}  // namespace lookalike::image
