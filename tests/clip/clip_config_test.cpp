#include "clip/clip_config.h"

#include <gtest/gtest.h>

#include "core/file_util.h"
#include "test_support.h"

namespace lookalike::clip {
namespace {

TEST(ClipConfig, ReadsTheRealViTB32Config) {
  auto config = ClipConfig::load(testing::vocab_dir());
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_EQ(config->projection_dim, 512);
  EXPECT_EQ(config->vision.encoder.hidden_size, 768);
  EXPECT_EQ(config->vision.encoder.num_layers, 12);
  EXPECT_EQ(config->vision.encoder.num_heads, 12);
  EXPECT_EQ(config->vision.num_positions(), 50);
  EXPECT_EQ(config->vision.patch_dim(), 3 * 32 * 32);
  EXPECT_EQ(config->text.encoder.hidden_size, 512);
  EXPECT_EQ(config->text.encoder.num_heads, 8);
  EXPECT_EQ(config->text.vocab_size, 49408);
  EXPECT_EQ(config->text.encoder.activation, Activation::kQuickGelu);
  EXPECT_EQ(config->text.eos_token_id, 2);
  EXPECT_FALSE(config->test_model);
}

TEST(ClipConfig, ReadsGeluAndPatch16) {
  auto config = ClipConfig::load(testing::conformance_dir() / "models" / "tiny-p16-gelu-f16");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->vision.encoder.activation, Activation::kGelu);
  EXPECT_EQ(config->vision.num_positions(), 197);
  EXPECT_EQ(config->vision.encoder.num_heads, 8);
}

TEST(ClipConfig, MissingKeysTakeTransformersDefaults) {
  auto config = ClipConfig::from_json(nlohmann::json::object());
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->vision.encoder.hidden_size, 768);
  EXPECT_EQ(config->text.max_position_embeddings, 77);
}

TEST(ClipConfig, ErrorsNameTheKey) {
  struct Case {
    const char* json;
    const char* key;
  };
  for (const auto& c :
       {Case{R"({"vision_config": {"hidden_size": 100, "num_attention_heads": 12}})",
             "vision_config.num_attention_heads"},
        Case{R"({"vision_config": {"patch_size": 30}})", "vision_config.patch_size"},
        Case{R"({"text_config": {"hidden_act": "relu"}})", "text_config.hidden_act"},
        Case{R"({"text_config": {"layer_norm_eps": -1}})", "text_config.layer_norm_eps"},
        Case{R"({"text_config": {"num_hidden_layers": "12"}})", "text_config.num_hidden_layers"},
        Case{R"({"projection_dim": 0})", "projection_dim"},
        Case{R"({"model_type": "bert"})", "model_type"},
        Case{R"({"text_config": 3})", "text_config"}}) {
    auto config = ClipConfig::from_json(nlohmann::json::parse(c.json));
    ASSERT_FALSE(config.ok()) << c.json;
    EXPECT_NE(config.error().message.find(c.key), std::string::npos) << config.error().message;
    EXPECT_NE(config.error().message.find("config.json"), std::string::npos);
  }
}

TEST(ClipConfig, MissingOrBrokenFileIsAnError) {
  testing::TempDir dir;
  EXPECT_EQ(ClipConfig::load(dir.path()).error().code, ErrorCode::kNotFound);
  testing::write_bytes(dir / "config.json", "{\"projection_dim\": ");
  EXPECT_EQ(ClipConfig::load(dir.path()).error().code, ErrorCode::kCorruptData);
}

}  // namespace
}  // namespace lookalike::clip
