// `lookalike model pull` end to end against the fake hub: the conformance model is served as a
// hub repository, pulled by the real binary, and the pulled directory embeds like the original.
#include <gtest/gtest.h>

#include <sstream>

#include "fake_hub.h"
#include "test_support.h"

namespace lookalike {
namespace {

TEST(ModelPull, PullsAVerifiedModelThatWorks) {
  testing::FakeHub hub;
  const auto source = testing::conformance_dir() / "models" / "tiny-p32";
  for (const auto& entry : std::filesystem::directory_iterator(source)) {
    const auto name = entry.path().filename().string();
    hub.add_file(name, testing::read_bytes(entry.path()), /*lfs=*/name == "model.safetensors");
  }
  testing::TempDir dir;
  const auto target = (dir / "model").string();
  auto pull = testing::run_command({testing::lookalike_binary().string(), "model", "pull", "--repo",
                                    testing::kRepo, "--endpoint", hub.endpoint(), "--dir", target});
  ASSERT_EQ(pull.exit_code, 0) << pull.err;
  std::istringstream lines(pull.out);
  std::string line;
  int files = 0;
  while (std::getline(lines, line)) {
    auto json = nlohmann::json::parse(line);
    EXPECT_TRUE(json["verified"].get<bool>()) << line;
    ++files;
  }
  EXPECT_GE(files, 5);
  EXPECT_EQ(testing::read_bytes(std::filesystem::path(target) / "model.safetensors"),
            testing::read_bytes(source / "model.safetensors"));

  // A second pull finds everything in place and downloads nothing.
  auto again =
      testing::run_command({testing::lookalike_binary().string(), "model", "pull", "--repo",
                            testing::kRepo, "--endpoint", hub.endpoint(), "--dir", target});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("\"skipped_existing\":true"), std::string::npos);

  auto embed = testing::run_command(
      {testing::lookalike_binary().string(), "embed", "text", "--model", target, "hi"});
  EXPECT_EQ(embed.exit_code, 0) << embed.err;

  auto missing = testing::run_command({testing::lookalike_binary().string(), "model", "pull",
                                       "--repo", "acme/nope", "--endpoint", hub.endpoint(), "--dir",
                                       (dir / "nope").string(), "--retries", "0"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("acme/nope"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace lookalike
