// A full-size random ViT-B/32 (as `model init-random` writes it) loads, runs, and its text
// embedding does not depend on whether the sequence stops at the end token or is padded to 77.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "clip/clip_model.h"
#include "clip/random_model_writer.h"
#include "clip/safetensors_file.h"
#include "clip/safetensors_writer.h"
#include "test_support.h"

namespace lookalike::clip {
namespace {

class FullSizeModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    RandomModelOptions options;
    options.like = testing::vocab_dir();
    options.out = dir_->path() / "vit-b32-random";
    options.seed = 7;
    options.dtype = DType::kF16;  // half the bytes to write; loading converts to f32
    auto status = write_random_model(options);
    ASSERT_TRUE(status.ok()) << status.error().to_string();
    auto model = ClipModel::load(options.out);
    ASSERT_TRUE(model.ok()) << model.error().to_string();
    model_ = std::move(model).value().release();
  }
  static void TearDownTestSuite() {
    delete model_;
    delete dir_;
  }
  static testing::TempDir* dir_;
  static ClipModel* model_;
};

testing::TempDir* FullSizeModel::dir_ = nullptr;
ClipModel* FullSizeModel::model_ = nullptr;

TEST_F(FullSizeModel, IsMarkedAsATestModelWithTheRealShapes) {
  ASSERT_NE(model_, nullptr);
  EXPECT_TRUE(model_->config().test_model);
  EXPECT_EQ(model_->embedding_dim(), 512);
  EXPECT_EQ(model_->config().vision.encoder.hidden_size, 768);
  EXPECT_EQ(model_->image_tensor_size(), 3u * 224 * 224);
}

TEST_F(FullSizeModel, TextEmbeddingIgnoresPaddingAfterTheEndToken) {
  ASSERT_NE(model_, nullptr);
  auto ids = model_->tokenizer().encode("red leather handbag with gold chain");
  auto padded = ids;
  padded.resize(77, model_->tokenizer().end_token());  // HF pads with <|endoftext|>
  std::vector<std::vector<std::int32_t>> batch = {ids};
  std::vector<float> stopped(512), full(512), padded_batch(512);
  ASSERT_TRUE(model_->embed_token_ids(batch, stopped.data(), true, /*stop_at_end=*/true).ok());
  std::vector<std::vector<std::int32_t>> padded_in = {padded};
  ASSERT_TRUE(model_->embed_token_ids(padded_in, full.data(), true, /*stop_at_end=*/false).ok());
  ASSERT_TRUE(
      model_->embed_token_ids(padded_in, padded_batch.data(), true, /*stop_at_end=*/true).ok());
  double dot = 0;
  float max_diff = 0;
  for (int i = 0; i < 512; ++i) {
    dot += static_cast<double>(stopped[i]) * full[i];
    max_diff = std::max(max_diff, std::abs(stopped[i] - full[i]));
    EXPECT_TRUE(std::isfinite(stopped[i]));
  }
  EXPECT_GE(dot, 0.99999);
  EXPECT_LT(max_diff, 1e-4f);
  EXPECT_EQ(stopped, padded_batch);
}

TEST_F(FullSizeModel, ImagesEmbedToUnitVectorsIndependentlyOfTheBatch) {
  ASSERT_NE(model_, nullptr);
  const std::size_t size = model_->image_tensor_size();
  std::vector<float> pixels(2 * size);
  for (std::size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = std::sin(static_cast<float>(i) * 0.001f);
  std::vector<float> both(2 * 512), second(512);
  ASSERT_TRUE(model_->embed_images(pixels.data(), 2, both.data()).ok());
  ASSERT_TRUE(model_->embed_images(pixels.data() + size, 1, second.data()).ok());
  double norm = 0, dot = 0;
  for (int i = 0; i < 512; ++i) {
    norm += both[512 + i] * both[512 + i];
    dot += static_cast<double>(both[512 + i]) * second[i];
  }
  EXPECT_NEAR(norm, 1.0, 1e-5);
  EXPECT_GE(dot, 0.99999);
}

TEST(RandomModelWriter, RejectsADirectoryWithoutConfig) {
  testing::TempDir dir;
  RandomModelOptions options;
  options.like = dir.path();
  options.out = dir / "out";
  EXPECT_EQ(write_random_model(options).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace lookalike::clip

namespace lookalike::clip {
namespace {

// Some published checkpoints also carry the `position_ids` buffers (I64); they are not weights
// and must not stop a model from loading.
TEST(ClipModelLoad, IgnoresPositionIdBuffers) {
  testing::TempDir dir;
  const auto source = testing::conformance_dir() / "models" / "tiny-p32";
  std::filesystem::create_directories(dir / "model");
  for (const auto& entry : std::filesystem::directory_iterator(source)) {
    if (entry.path().filename() != "model.safetensors") {
      std::filesystem::copy_file(entry.path(), dir / "model" / entry.path().filename());
    }
  }
  auto original = SafetensorsFile::open(source / "model.safetensors");
  ASSERT_TRUE(original.ok());
  std::vector<TensorData> tensors;
  for (const auto& t : original->tensors()) {
    const auto* data = original->data(t);
    tensors.push_back(
        {t.name, t.dtype, t.shape, std::vector<std::uint8_t>(data, data + t.byte_size)});
  }
  for (auto [name, count] : {std::pair{"text_model.embeddings.position_ids", 77},
                             std::pair{"vision_model.embeddings.position_ids", 50}}) {
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(count) * 8);
    for (int i = 0; i < count; ++i) std::memcpy(bytes.data() + 8 * i, &i, sizeof(int));
    tensors.push_back({name, DType::kI64, {1, count}, bytes});
  }
  ASSERT_TRUE(write_safetensors(dir / "model" / "model.safetensors", tensors).ok());
  auto model = ClipModel::load(dir / "model");
  ASSERT_TRUE(model.ok()) << model.error().to_string();
  std::vector<std::string> texts = {"a photo of a cat"};
  std::vector<float> out(static_cast<std::size_t>((*model)->embedding_dim()));
  EXPECT_TRUE((*model)->embed_texts(texts, out.data()).ok());
}

}  // namespace
}  // namespace lookalike::clip
