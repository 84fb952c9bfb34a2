// Black-box tests: run the real `lookalike` binary and read what it prints.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/file_util.h"
#include "test_support.h"

namespace lookalike {
namespace {

using testing::cosine;

using testing::run_command;

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    expected_ = *read_json_file(testing::conformance_dir() / "expected.json");
  }
  std::string model(const std::string& name = "tiny-p32") const {
    return (testing::conformance_dir() / "models" / name).string();
  }
  std::string image(const std::string& name) const {
    return (testing::conformance_dir() / "images" / name).string();
  }
  testing::CommandResult lookalike(std::vector<std::string> args) const {
    args.insert(args.begin(), testing::lookalike_binary().string());
    return run_command(args);
  }
  nlohmann::json expected_;
  testing::TempDir dir_;
};

TEST_F(Cli, TokenizePrintsTheReferenceIds) {
  std::vector<std::string> args = {"tokenize", "--model", model()};
  std::map<std::string, std::vector<int>> want;
  for (const auto& entry : expected_["tokenizer"]) {
    args.push_back(entry["text"]);
    want[entry["text"]] = entry["ids"].get<std::vector<int>>();
  }
  auto result = lookalike(args);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto lines = json_lines(result.out);
  ASSERT_EQ(lines.size(), want.size());
  for (const auto& line : lines)
    EXPECT_EQ(line["ids"].get<std::vector<int>>(), want[line["text"]]) << line["text"];
}

TEST_F(Cli, EmbedTextRawMatchesTheReference) {
  for (const char* name : {"tiny-p32", "tiny-p16-gelu-f16"}) {
    const auto& texts = expected_["models"][name]["texts"];
    std::vector<std::string> args = {"embed", "text", "--model", model(name), "--raw"};
    for (const auto& t : texts) args.push_back(t["text"]);
    auto result = lookalike(args);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto lines = json_lines(result.out);
    ASSERT_EQ(lines.size(), texts.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
      EXPECT_EQ(lines[i]["text"], texts[i]["text"]);
      EXPECT_GE(cosine(lines[i]["embedding"].get<std::vector<float>>(),
                       texts[i]["embedding"].get<std::vector<float>>()),
                expected_["tolerances"]["text_cosine_min"].get<double>());
    }
  }
}

TEST_F(Cli, EmbedImageMatchesTheReferenceFromFiles) {
  for (const char* name : {"tiny-p32", "tiny-p16-gelu-f16"}) {
    const auto& images = expected_["models"][name]["images"];
    std::vector<std::string> args = {"embed", "image",   "--model", model(name),
                                     "--raw", "--batch", "4"};
    for (auto it = images.begin(); it != images.end(); ++it) args.push_back(image(it.key()));
    auto result = lookalike(args);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto lines = json_lines(result.out);
    ASSERT_EQ(lines.size(), images.size());
    for (const auto& line : lines) {
      const auto file = std::filesystem::path(line["file"].get<std::string>()).filename().string();
      EXPECT_GE(cosine(line["embedding"].get<std::vector<float>>(),
                       images[file].get<std::vector<float>>()),
                expected_["tolerances"]["image_cosine_min"].get<double>())
          << name << " " << file;
    }
  }
}

TEST_F(Cli, BadFilesAreReportedWithoutLosingTheOthers) {
  testing::write_bytes(dir_ / "text.jpg", "this is not an image");
  auto truncated = testing::read_bytes(image("photo_640x480_q90.jpg"));
  testing::write_bytes(dir_ / "truncated.jpg", truncated.substr(0, truncated.size() / 3));
  auto result = lookalike({"embed", "image", "--model", model(), image("square_224.png"),
                           (dir_ / "text.jpg").string(), (dir_ / "missing.png").string(),
                           (dir_ / "truncated.jpg").string(), image("cmyk_400x300.jpg")});
  EXPECT_EQ(result.exit_code, 1);
  auto out = json_lines(result.out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["file"], image("square_224.png"));
  EXPECT_EQ(out[1]["file"], image("cmyk_400x300.jpg"));
  double norm = 0;
  for (float v : out[1]["embedding"].get<std::vector<float>>()) norm += v * v;
  EXPECT_NEAR(norm, 1.0, 1e-5);
  auto err = json_lines(result.err);
  ASSERT_EQ(err.size(), 3u);
  for (const auto& e : err) {
    EXPECT_TRUE(e.contains("file"));
    EXPECT_FALSE(e["error"]["message"].get<std::string>().empty());
  }
  EXPECT_EQ(err[1]["error"]["code"], "not_found");
}

TEST_F(Cli, PreprocessWritesTheTensorAndAPng) {
  auto result = lookalike({"preprocess", "--model", model(), "--out", (dir_ / "out").string(),
                           "--png", image("photo_640x480_q90.jpg")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto tensor = testing::read_bytes(dir_ / "out" / "photo_640x480_q90.f32");
  auto want = testing::read_bytes(testing::conformance_dir() / "pixels" / "photo_640x480_q90.f32");
  ASSERT_EQ(tensor.size(), want.size());
  std::vector<float> got(tensor.size() / 4), ref(want.size() / 4);
  std::memcpy(got.data(), tensor.data(), tensor.size());
  std::memcpy(ref.data(), want.data(), want.size());
  double max_abs = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    max_abs = std::max(max_abs, static_cast<double>(std::abs(got[i] - ref[i])));
  EXPECT_LE(max_abs, expected_["tolerances"]["pixel_max_abs"].get<double>());
  auto png = testing::read_bytes(dir_ / "out" / "photo_640x480_q90.png");
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
}

TEST_F(Cli, ModelInitRandomAndInfo) {
  const auto out = (dir_ / "random").string();
  auto init = lookalike(
      {"model", "init-random", "--like", model(), "--out", out, "--seed", "3", "--dtype", "bf16"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  auto info = lookalike({"model", "info", "--model", out});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  auto summary = json_lines(info.out).at(0);
  EXPECT_EQ(summary["test_model"], true);
  EXPECT_EQ(summary["name"], "lookalike-random-tiny-p32-seed3");
  EXPECT_EQ(summary["projection_dim"], 32);
  EXPECT_EQ(summary["weights"]["dtypes"]["BF16"].get<int>(),
            summary["weights"]["tensors"].get<int>());
  // Loading a test model says so.
  auto embed = lookalike({"embed", "text", "--model", out, "hello"});
  ASSERT_EQ(embed.exit_code, 0) << embed.err;
  EXPECT_NE(embed.err.find("TEST MODEL"), std::string::npos);
}

TEST_F(Cli, BrokenModelDirectoriesFailClearly) {
  auto missing = lookalike({"embed", "text", "--model", (dir_ / "nope").string(), "x"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("not_found"), std::string::npos);

  // A truncated weights file: the error names the file.
  std::filesystem::create_directories(dir_ / "broken");
  for (const char* f : {"config.json", "vocab.json", "merges.txt", "preprocessor_config.json"}) {
    std::filesystem::copy_file(testing::conformance_dir() / "models" / "tiny-p32" / f,
                               dir_ / "broken" / f);
  }
  auto weights =
      testing::read_bytes(testing::conformance_dir() / "models" / "tiny-p32" / "model.safetensors");
  testing::write_bytes(dir_ / "broken" / "model.safetensors",
                       weights.substr(0, weights.size() / 2));
  auto truncated = lookalike({"embed", "text", "--model", (dir_ / "broken").string(), "x"});
  EXPECT_EQ(truncated.exit_code, 2);
  EXPECT_NE(truncated.err.find("model.safetensors"), std::string::npos) << truncated.err;
}

TEST_F(Cli, ConfigPrecedenceFlagsThenEnvironmentThenEnvFile) {
  testing::write_bytes(dir_ / "settings.env", "# comment\nLOOKALIKE_MODEL=" + model() + "\n");
  auto from_file = lookalike({"--env-file", (dir_ / "settings.env").string(), "tokenize", "hi"});
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  // A flag wins over the file.
  testing::write_bytes(dir_ / "bad.env", "LOOKALIKE_MODEL=" + (dir_ / "nope").string() + "\n");
  auto flag_wins =
      lookalike({"--env-file", (dir_ / "bad.env").string(), "tokenize", "--model", model(), "hi"});
  EXPECT_EQ(flag_wins.exit_code, 0) << flag_wins.err;
  testing::write_bytes(dir_ / "malformed.env", "JUST_A_WORD\n");
  auto malformed = lookalike(
      {"--env-file", (dir_ / "malformed.env").string(), "tokenize", "--model", model(), "hi"});
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_NE(malformed.err.find("malformed.env:1"), std::string::npos);
}

TEST_F(Cli, BenchEmbedPrintsNumbers) {
  auto result = lookalike({"bench", "embed", "--model", model(), "--batch", "4", "--threads", "1",
                           "--precision", "bf16", "--seconds", "0.2", "--image",
                           image("photo_640x480_q90.jpg")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto line = json_lines(result.out).at(0);
  EXPECT_GT(line["images_per_s"].get<double>(), 0);
  EXPECT_GT(line["pipeline_images_per_s"].get<double>(), 0);
  EXPECT_GT(line["text_query_ms"]["p50"].get<double>(), 0);
  EXPECT_GT(line["peak_rss_mb"].get<double>(), 0);
  EXPECT_EQ(line["threads"], 1);  // global options may follow the subcommand
  EXPECT_EQ(line["precision"], "bf16");
  EXPECT_EQ(line["test_model"], false);
}

TEST_F(Cli, UsageErrorsExitNonZero) {
  EXPECT_NE(lookalike({}).exit_code, 0);
  EXPECT_NE(lookalike({"embed", "image", "--model", model()}).exit_code, 0);
  EXPECT_NE(lookalike({"--precision", "fp8", "embed", "text", "--model", model(), "x"}).exit_code,
            0);
  EXPECT_EQ(lookalike({"--version"}).exit_code, 0);
}

}  // namespace
}  // namespace lookalike
