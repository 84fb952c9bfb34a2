// EmbeddingBatcher (api/embedding_batcher.h) on the tiny conformance model: what goes through the
// batcher is what the model gives directly, whether one query runs at a time or many threads
// share forward passes; the text cache answers repeats; decoder errors come back as they are;
// and the batch-size metrics add up.
#include "api/embedding_batcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "clip/clip_model.h"
#include "core/metrics_registry.h"
#include "image/clip_preprocessor.h"
#include "image/image_decoder.h"
#include "image/preprocess_config.h"
#include "test_support.h"

namespace lookalike::api {
namespace {

using testing::cosine;

constexpr double kSameVector = 0.99999;

std::filesystem::path model_dir() { return testing::conformance_dir() / "models" / "tiny-p32"; }

std::span<const std::uint8_t> as_bytes(const std::string& data) {
  return {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()};
}

std::string conformance_image(const std::string& name) {
  return testing::read_bytes(testing::conformance_dir() / "images" / name);
}

// Conformance images of several formats and sizes.
const std::vector<std::string> kImages = {
    "photo_640x480_q90.jpg", "square_224.png",   "odd_333x517.webp",
    "small_40x30.png",       "gray_300x301.png", "palette_257x190.png",
};

const std::vector<std::string> kTexts = {
    "a red leather handbag",
    "blue running shoes",
    "",
    "a photo of a cat",
    "Ünïcödé wörds and emoji \xF0\x9F\x91\x9C",
    "the quick brown fox jumps over the lazy dog",
    "vintage wooden chair",
    "stainless steel watch with a black dial",
};

void expect_same_vector(const std::vector<float>& got, const std::vector<float>& want,
                        const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  EXPECT_GT(cosine(got, want), kSameVector) << what;
  float max_diff = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(got[i] - want[i]));
  }
  EXPECT_LT(max_diff, 1e-4f) << what;
}

double l2_norm(const std::vector<float>& v) {
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  return std::sqrt(sum);
}

// A value of the rendered registry (Prometheus text format): `series` is the name with labels,
// as it appears at the start of its line, e.g. `lookalike_embedding_batch_size_sum{kind="text"}`.
double metric(const MetricsRegistry& metrics, const std::string& series) {
  const std::string text = metrics.render();
  std::size_t at = 0;
  while ((at = text.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') {
      const std::size_t end = text.find('\n', at);
      return std::stod(text.substr(at + series.size() + 1, end - at - series.size() - 1));
    }
    at += series.size();
  }
  ADD_FAILURE() << "no series " << series << " in\n" << text;
  return -1;
}

class EmbeddingBatcherConformance : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto model = clip::ClipModel::load(model_dir());
    ASSERT_TRUE(model.ok()) << model.error().to_string();
    model_ = std::move(model).value().release();
    auto config = image::PreprocessConfig::load(model_dir());
    ASSERT_TRUE(config.ok()) << config.error().to_string();
    preprocessor_ = new image::ClipPreprocessor(*config);
  }
  static void TearDownTestSuite() {
    delete preprocessor_;
    preprocessor_ = nullptr;
    delete model_;
    model_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(model_, nullptr);
    ASSERT_NE(preprocessor_, nullptr);
  }

  // The model's own answers, one query per pass.
  static std::vector<float> direct_text(const std::string& text) {
    std::vector<float> out(static_cast<std::size_t>(model_->embedding_dim()));
    std::vector<std::string> texts{text};
    Status status = model_->embed_texts(texts, out.data());
    EXPECT_TRUE(status.ok()) << status.error().to_string();
    return out;
  }
  static std::vector<float> direct_image(const std::string& bytes) {
    auto decoded = image::decode_image(as_bytes(bytes));
    EXPECT_TRUE(decoded.ok()) << decoded.error().to_string();
    if (!decoded.ok()) return {};
    std::vector<float> tensor = preprocessor_->preprocess(*decoded);
    EXPECT_EQ(tensor.size(), model_->image_tensor_size());
    std::vector<float> out(static_cast<std::size_t>(model_->embedding_dim()));
    Status status = model_->embed_images(tensor.data(), 1, out.data());
    EXPECT_TRUE(status.ok()) << status.error().to_string();
    return out;
  }

  static clip::ClipModel* model_;
  static image::ClipPreprocessor* preprocessor_;
};

clip::ClipModel* EmbeddingBatcherConformance::model_ = nullptr;
image::ClipPreprocessor* EmbeddingBatcherConformance::preprocessor_ = nullptr;

TEST_F(EmbeddingBatcherConformance, TextEqualsTheModelAndRepeatsAreCached) {
  MetricsRegistry metrics;
  EmbeddingBatcher batcher(*model_, *preprocessor_, {}, &metrics);
  const std::string text = "a red leather handbag";
  bool cached = true;
  auto first = batcher.embed_text(text, &cached);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_FALSE(cached);
  ASSERT_EQ(first->size(), static_cast<std::size_t>(model_->embedding_dim()));
  EXPECT_NEAR(l2_norm(*first), 1.0, 1e-5);
  expect_same_vector(*first, direct_text(text), text);

  cached = false;
  auto second = batcher.embed_text(text, &cached);
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_TRUE(cached);
  EXPECT_EQ(*second, *first);  // the very same floats

  // Without the out-parameter too.
  auto third = batcher.embed_text(text);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(*third, *first);

  EXPECT_EQ(metric(metrics, "lookalike_text_cache_misses_total"), 1);
  EXPECT_EQ(metric(metrics, "lookalike_text_cache_hits_total"), 2);
  EXPECT_EQ(metric(metrics, R"(lookalike_embedding_batch_size_count{kind="text"})"), 1);
  EXPECT_EQ(metric(metrics, R"(lookalike_embedding_batch_size_sum{kind="text"})"), 1);
  EXPECT_EQ(metric(metrics, R"(lookalike_embedding_duration_seconds_count{kind="text"})"), 1);
  EXPECT_EQ(metric(metrics, R"(lookalike_embedding_batch_size_count{kind="image"})"), 0);
}

TEST_F(EmbeddingBatcherConformance, EveryTextEqualsTheModel) {
  EmbeddingBatcher batcher(*model_, *preprocessor_, {}, nullptr);  // no metrics
  for (const auto& text : kTexts) {
    auto got = batcher.embed_text(text);
    ASSERT_TRUE(got.ok()) << text << ": " << got.error().to_string();
    expect_same_vector(*got, direct_text(text), text);
  }
}

TEST_F(EmbeddingBatcherConformance, TextCacheOffStillAnswers) {
  BatcherOptions options;
  options.text_cache_entries = 0;
  EmbeddingBatcher batcher(*model_, *preprocessor_, options, nullptr);
  bool cached = true;
  auto first = batcher.embed_text("blue running shoes", &cached);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(cached);
  cached = true;
  auto second = batcher.embed_text("blue running shoes", &cached);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(cached);
  expect_same_vector(*second, *first, "uncached repeat");
}

TEST_F(EmbeddingBatcherConformance, ImageEqualsDecodePreprocessEmbed) {
  MetricsRegistry metrics;
  EmbeddingBatcher batcher(*model_, *preprocessor_, {}, &metrics);
  for (const auto& name : kImages) {
    const std::string bytes = conformance_image(name);
    auto got = batcher.embed_image(as_bytes(bytes));
    ASSERT_TRUE(got.ok()) << name << ": " << got.error().to_string();
    EXPECT_NEAR(l2_norm(*got), 1.0, 1e-5) << name;
    expect_same_vector(*got, direct_image(bytes), name);
  }
  const auto n = static_cast<double>(kImages.size());
  EXPECT_EQ(metric(metrics, R"(lookalike_embedding_batch_size_count{kind="image"})"), n);
  EXPECT_EQ(metric(metrics, R"(lookalike_embedding_batch_size_sum{kind="image"})"), n);
  EXPECT_EQ(metric(metrics, R"(lookalike_embedding_batch_size_count{kind="text"})"), 0);
}

TEST_F(EmbeddingBatcherConformance, TensorEqualsTheModel) {
  EmbeddingBatcher batcher(*model_, *preprocessor_, {}, nullptr);
  const std::string bytes = conformance_image("square_224.png");
  auto decoded = image::decode_image(as_bytes(bytes));
  ASSERT_TRUE(decoded.ok());
  auto got = batcher.embed_tensor(preprocessor_->preprocess(*decoded));
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  expect_same_vector(*got, direct_image(bytes), "tensor");

  auto wrong = batcher.embed_tensor(std::vector<float>(model_->image_tensor_size() - 1, 0.0f));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kInvalidArgument);
  auto empty = batcher.embed_tensor({});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(EmbeddingBatcherConformance, ConcurrentQueriesMatchSequentialOnes) {
  // Sequential answers first, through a batcher of their own (one query per pass).
  std::vector<std::string> image_bytes;
  std::vector<std::vector<float>> want_images;
  std::vector<std::vector<float>> want_texts;
  {
    EmbeddingBatcher sequential(*model_, *preprocessor_, {}, nullptr);
    for (const auto& name : kImages) {
      image_bytes.push_back(conformance_image(name));
      auto vector = sequential.embed_image(as_bytes(image_bytes.back()));
      ASSERT_TRUE(vector.ok()) << name;
      want_images.push_back(*vector);
    }
    for (const auto& text : kTexts) {
      auto vector = sequential.embed_text(text);
      ASSERT_TRUE(vector.ok()) << text;
      want_texts.push_back(*vector);
    }
  }

  MetricsRegistry metrics;
  BatcherOptions options;
  options.max_image_batch = 4;  // so that a busy queue takes more than one pass
  options.max_text_batch = 3;
  EmbeddingBatcher batcher(*model_, *preprocessor_, options, &metrics);

  constexpr int kThreads = 16;
  constexpr int kRounds = 3;  // each thread: kRounds images and kRounds texts, interleaved
  struct Answer {
    bool is_text;
    std::size_t index;
    Result<std::vector<float>> vector;
  };
  std::vector<std::vector<Answer>> answers(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto& mine = answers[static_cast<std::size_t>(t)];
      for (int r = 0; r < kRounds; ++r) {
        const auto i = static_cast<std::size_t>(t * kRounds + r);
        const std::size_t image = i % image_bytes.size();
        mine.push_back({false, image, batcher.embed_image(as_bytes(image_bytes[image]))});
        const std::size_t text = (i * 5 + 1) % kTexts.size();
        mine.push_back({true, text, batcher.embed_text(kTexts[text])});
      }
    });
  }
  for (auto& thread : threads) thread.join();

  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(answers[static_cast<std::size_t>(t)].size(), 2u * kRounds) << t;
    for (const auto& answer : answers[static_cast<std::size_t>(t)]) {
      const std::string what = std::string(answer.is_text ? "text " : "image ") +
                               std::to_string(answer.index) + " in thread " + std::to_string(t);
      ASSERT_TRUE(answer.vector.ok()) << what << ": " << answer.vector.error().to_string();
      expect_same_vector(*answer.vector,
                         answer.is_text ? want_texts[answer.index] : want_images[answer.index],
                         what);
    }
  }

  const double image_queries = kThreads * kRounds;
  const double text_queries = kThreads * kRounds;
  const double hits = metric(metrics, "lookalike_text_cache_hits_total");
  const double misses = metric(metrics, "lookalike_text_cache_misses_total");
  EXPECT_EQ(hits + misses, text_queries);
  EXPECT_GE(misses, static_cast<double>(kTexts.size()));  // every distinct text once at least

  const double image_passes =
      metric(metrics, R"(lookalike_embedding_duration_seconds_count{kind="image"})");
  const double text_passes =
      metric(metrics, R"(lookalike_embedding_duration_seconds_count{kind="text"})");
  const double image_batch_count =
      metric(metrics, R"(lookalike_embedding_batch_size_count{kind="image"})");
  const double image_batch_sum =
      metric(metrics, R"(lookalike_embedding_batch_size_sum{kind="image"})");
  const double text_batch_count =
      metric(metrics, R"(lookalike_embedding_batch_size_count{kind="text"})");
  const double text_batch_sum =
      metric(metrics, R"(lookalike_embedding_batch_size_sum{kind="text"})");
  RecordProperty("image_passes", std::to_string(image_passes));
  RecordProperty("text_passes", std::to_string(text_passes));
  // One observation per forward pass; together they count every query that reached the model.
  EXPECT_EQ(image_batch_count, image_passes);
  EXPECT_EQ(text_batch_count, text_passes);
  EXPECT_EQ(image_batch_sum, image_queries);
  EXPECT_EQ(text_batch_sum, misses);
  // No pass is empty or over its limit.
  EXPECT_GE(image_batch_count, std::ceil(image_queries / options.max_image_batch));
  EXPECT_LE(image_batch_count, image_queries);
  EXPECT_GE(text_batch_count, std::ceil(misses / options.max_text_batch));
  EXPECT_LE(text_batch_count, misses);
  EXPECT_EQ(metric(metrics, R"(lookalike_embedding_batch_size_bucket{kind="image",le="4"})"),
            image_batch_count);
  EXPECT_EQ(metric(metrics, R"(lookalike_embedding_batch_size_bucket{kind="text",le="4"})"),
            text_batch_count);
}

TEST_F(EmbeddingBatcherConformance, DecoderErrorsComeBackAsTheyAre) {
  EmbeddingBatcher batcher(*model_, *preprocessor_, {}, nullptr);
  const std::string jpeg = conformance_image("photo_640x480_q90.jpg");

  auto truncated = batcher.embed_image(as_bytes(jpeg.substr(0, jpeg.size() / 2)));
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().code, ErrorCode::kCorruptData) << truncated.error().to_string();

  std::string garbage = "\xFF\xD8\xFF";  // a JPEG's magic, then nothing of a JPEG
  for (int i = 0; i < 2000; ++i) garbage.push_back(static_cast<char>((i * 131) % 251));
  auto corrupt = batcher.embed_image(as_bytes(garbage));
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.error().code, ErrorCode::kCorruptData) << corrupt.error().to_string();

  auto empty = batcher.embed_image({});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kCorruptData) << empty.error().to_string();

  auto unknown = batcher.embed_image(as_bytes(std::string(100, 'x')));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kUnsupported) << unknown.error().to_string();

  // The batcher still works after errors.
  auto fine = batcher.embed_image(as_bytes(jpeg));
  EXPECT_TRUE(fine.ok());
}

TEST_F(EmbeddingBatcherConformance, BytesOverTheLimitAreResourceExhausted) {
  const std::string png = conformance_image("square_224.png");
  BatcherOptions options;
  options.limits.max_bytes = png.size() - 1;
  EmbeddingBatcher batcher(*model_, *preprocessor_, options, nullptr);
  auto over = batcher.embed_image(as_bytes(png));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, ErrorCode::kResourceExhausted) << over.error().to_string();

  // Exactly at the limit is fine.
  options.limits.max_bytes = png.size();
  EmbeddingBatcher at_limit(*model_, *preprocessor_, options, nullptr);
  EXPECT_TRUE(at_limit.embed_image(as_bytes(png)).ok());

  // The pixel limit too.
  options.limits.max_pixels = 224 * 224 - 1;
  EmbeddingBatcher pixels(*model_, *preprocessor_, options, nullptr);
  auto too_many = pixels.embed_image(as_bytes(png));
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, ErrorCode::kResourceExhausted) << too_many.error().to_string();
}

TEST_F(EmbeddingBatcherConformance, DestroyingWhileIdleIsClean) {
  MetricsRegistry metrics;
  // Never used.
  for (int i = 0; i < 20; ++i) {
    EmbeddingBatcher batcher(*model_, *preprocessor_, {}, &metrics);
  }
  // Used, then idle.
  for (int i = 0; i < 3; ++i) {
    EmbeddingBatcher batcher(*model_, *preprocessor_, {}, &metrics);
    ASSERT_TRUE(batcher.embed_text(kTexts[static_cast<std::size_t>(i)]).ok());
    ASSERT_TRUE(batcher.embed_image(as_bytes(conformance_image("small_40x30.png"))).ok());
  }
  // Batchers sharing one registry share its series.
  EXPECT_EQ(metric(metrics, R"(lookalike_embedding_batch_size_count{kind="image"})"), 3);
  EXPECT_EQ(metric(metrics, R"(lookalike_embedding_batch_size_count{kind="text"})"), 3);
}

TEST_F(EmbeddingBatcherConformance, MissingTowersAreFailedPrecondition) {
  clip::ClipModelOptions text_only;
  text_only.load_vision = false;
  auto model = clip::ClipModel::load(model_dir(), text_only);
  ASSERT_TRUE(model.ok()) << model.error().to_string();
  EmbeddingBatcher batcher(**model, *preprocessor_, {}, nullptr);
  auto image = batcher.embed_image(as_bytes(conformance_image("small_40x30.png")));
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.error().code, ErrorCode::kFailedPrecondition);
  auto tensor = batcher.embed_tensor(std::vector<float>(3 * 224 * 224, 0.0f));
  ASSERT_FALSE(tensor.ok());
  EXPECT_EQ(tensor.error().code, ErrorCode::kFailedPrecondition);
  auto text = batcher.embed_text("still works");
  ASSERT_TRUE(text.ok()) << text.error().to_string();
  expect_same_vector(*text, direct_text("still works"), "text-only model");

  clip::ClipModelOptions vision_only;
  vision_only.load_text = false;
  auto vision_model = clip::ClipModel::load(model_dir(), vision_only);
  ASSERT_TRUE(vision_model.ok()) << vision_model.error().to_string();
  EmbeddingBatcher vision_batcher(**vision_model, *preprocessor_, {}, nullptr);
  auto no_text = vision_batcher.embed_text("anything");
  ASSERT_FALSE(no_text.ok());
  EXPECT_EQ(no_text.error().code, ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace lookalike::api
