// PreprocessConfig parsing: HF defaults, the real CLIP config, and errors that name the key.
#include "image/preprocess_config.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace lookalike::image {
namespace {

using nlohmann::json;

void expect_error_names(const json& config, const std::string& key) {
  auto parsed = PreprocessConfig::from_json(config);
  ASSERT_FALSE(parsed.ok()) << config.dump();
  EXPECT_NE(parsed.error().message.find(key), std::string::npos)
      << "message: " << parsed.error().message;
}

TEST(PreprocessConfig, LoadsTheOpenAiClipConfig) {
  auto config = PreprocessConfig::load(lookalike::testing::vocab_dir());
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_EQ(config->shortest_edge, 224);
  EXPECT_EQ(config->crop_width, 224);
  EXPECT_EQ(config->crop_height, 224);
  EXPECT_EQ(config->resample, ResampleFilter::kBicubic);
  EXPECT_DOUBLE_EQ(config->rescale_factor, 0.00392156862745098);
  EXPECT_DOUBLE_EQ(config->image_mean[0], 0.48145466);
  EXPECT_DOUBLE_EQ(config->image_std[2], 0.27577711);
  EXPECT_TRUE(config->do_resize && config->do_center_crop && config->do_rescale &&
              config->do_normalize && config->do_convert_rgb);
  // Its settings are the CLIPImageProcessor defaults.
  EXPECT_EQ(*config, PreprocessConfig{});
}

TEST(PreprocessConfig, EmptyObjectGivesHfDefaults) {
  auto config = PreprocessConfig::from_json(json::object());
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(*config, PreprocessConfig{});
}

TEST(PreprocessConfig, LegacyIntegerSizes) {
  auto config = PreprocessConfig::from_json(json{{"size", 256}, {"crop_size", 240}});
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_EQ(config->shortest_edge, 256);
  EXPECT_EQ(config->crop_width, 240);
  EXPECT_EQ(config->crop_height, 240);
}

TEST(PreprocessConfig, ExactSizeAndScalarMeanStd) {
  auto config = PreprocessConfig::from_json(
      json{{"size", {{"height", 300}, {"width", 200}}}, {"image_mean", 0.5}, {"image_std", 0.25}});
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_EQ(config->shortest_edge, 0);
  EXPECT_EQ(config->resize_height, 300);
  EXPECT_EQ(config->resize_width, 200);
  EXPECT_DOUBLE_EQ(config->image_mean[1], 0.5);
  EXPECT_DOUBLE_EQ(config->image_std[2], 0.25);
}

TEST(PreprocessConfig, ErrorsNameTheKey) {
  expect_error_names(json{{"size", json::object()}}, "size");
  expect_error_names(json{{"size", {{"shortest_edge", -5}}}}, "size.shortest_edge");
  expect_error_names(json{{"size", {{"shortest_edge", 0}}}}, "size.shortest_edge");
  expect_error_names(json{{"size", {{"shortest_edge", "224"}}}}, "size.shortest_edge");
  expect_error_names(json{{"size", {{"height", 10}}}}, "size.width");
  expect_error_names(json{{"crop_size", {{"height", 224}}}}, "crop_size.width");
  expect_error_names(json{{"crop_size", {{"height", -224}, {"width", 224}}}}, "crop_size.height");
  expect_error_names(json{{"crop_size", "big"}}, "crop_size");
  expect_error_names(json{{"do_resize", "yes"}}, "do_resize");
  expect_error_names(json{{"do_normalize", 1}}, "do_normalize");
  expect_error_names(json{{"rescale_factor", -1.0}}, "rescale_factor");
  expect_error_names(json{{"rescale_factor", "1/255"}}, "rescale_factor");
  expect_error_names(json{{"image_mean", {0.1, 0.2}}}, "image_mean");
  expect_error_names(json{{"image_mean", {0.1, "x", 0.3}}}, "image_mean[1]");
  expect_error_names(json{{"image_std", {0.1, 0.0, 0.3}}}, "image_std[1]");
  expect_error_names(json{{"image_std", {0.1, 0.2, -0.3}}}, "image_std[2]");
  expect_error_names(json{{"resample", 9}}, "resample");
  expect_error_names(json{{"resample", 2.5}}, "resample");
  expect_error_names(json::array(), "root");
}

TEST(PreprocessConfig, NearestResampleIsUnsupported) {
  auto config = PreprocessConfig::from_json(json{{"resample", 0}});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(config.error().message.find("resample"), std::string::npos);
}

TEST(PreprocessConfig, MissingFileIsNotFoundAndBadJsonIsCorrupt) {
  lookalike::testing::TempDir dir;
  auto missing = PreprocessConfig::load(dir.path());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  lookalike::testing::write_bytes(dir / "preprocessor_config.json", "{\"size\": ");
  auto corrupt = PreprocessConfig::load(dir.path());
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.error().code, ErrorCode::kCorruptData);
  lookalike::testing::write_bytes(dir / "preprocessor_config.json", "{\"crop_size\": {}}");
  auto invalid = PreprocessConfig::load(dir.path());
  ASSERT_FALSE(invalid.ok());
  EXPECT_NE(invalid.error().message.find("preprocessor_config.json"), std::string::npos);
  EXPECT_NE(invalid.error().message.find("crop_size.height"), std::string::npos);
}

TEST(PreprocessConfig, FingerprintIsStableAndSensitive) {
  const PreprocessConfig defaults;
  const std::string fingerprint = defaults.fingerprint();
  EXPECT_EQ(fingerprint.size(), 64u);
  EXPECT_EQ(fingerprint, PreprocessConfig{}.fingerprint());
  // Same settings spelled differently (key order, legacy forms) → same fingerprint.
  auto spelled = PreprocessConfig::from_json(
      json::parse(R"({"crop_size": 224, "size": {"shortest_edge": 224}, "resample": 3})"));
  ASSERT_TRUE(spelled.ok());
  EXPECT_EQ(spelled->fingerprint(), fingerprint);
  // Any change → a different fingerprint.
  PreprocessConfig changed = defaults;
  changed.image_mean[2] += 1e-6;
  EXPECT_NE(changed.fingerprint(), fingerprint);
  changed = defaults;
  changed.resample = ResampleFilter::kBilinear;
  EXPECT_NE(changed.fingerprint(), fingerprint);
  changed = defaults;
  changed.do_center_crop = false;
  EXPECT_NE(changed.fingerprint(), fingerprint);
}

TEST(PreprocessConfig, RoundTripsThroughToJson) {
  PreprocessConfig config;
  config.shortest_edge = 336;
  config.crop_width = config.crop_height = 336;
  config.image_std = {0.5, 0.5, 0.5};
  const json dumped = config.to_json();
  EXPECT_EQ(dumped["shortest_edge"], 336);
  EXPECT_EQ(dumped["image_std"], json({0.5, 0.5, 0.5}));
}

}  // namespace
}  // namespace lookalike::image
