// pull_model against an in-process fake of the Hugging Face Hub (cpp-httplib on 127.0.0.1): the
// API listing, resolve URLs, an LFS file redirected to a "CDN" on another port, Range requests,
// dropped connections, corruption and authentication.
#include "clip/model_puller.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/sha256.h"
#include "fake_hub.h"
#include "test_support.h"

namespace lookalike::clip {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::FakeFile;
using testing::FakeHub;
using testing::git_blob_id;
using testing::kCommit;
using testing::kLfsSize;
using testing::kRepo;
using testing::SeenRequest;

std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::string bytes(size, '\0');
  for (auto& b : bytes) b = static_cast<char>(rng() & 0xff);
  return bytes;
}

std::vector<SeenRequest> only(const std::vector<SeenRequest>& all, const std::string& server,
                              const std::string& path_part) {
  std::vector<SeenRequest> out;
  for (const auto& r : all) {
    if (r.server == server && r.path.find(path_part) != std::string::npos) out.push_back(r);
  }
  return out;
}

class ModelPullerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_.add_file("config.json", R"({"model_type": "clip", "projection_dim": 512})");
    hub_.add_file("model.safetensors", random_bytes(kLfsSize, 7), /*lfs=*/true);
    hub_.add_file("vocab.json", R"({"a</w>": 0, "b</w>": 1})");
    hub_.add_file("merges.txt", "#version: 0.2\na b\n");
    hub_.add_file("tokenizer.json", R"({"version": "1.0"})");
    hub_.add_file("tokenizer_config.json", R"({"model_max_length": 77})");
    hub_.add_file("preprocessor_config.json", R"({"crop_size": 224})");
    // special_tokens_map.json is requested by default but absent: optional, so it is skipped.
  }

  PullOptions options() const {
    PullOptions o;
    o.repo = kRepo;
    o.dir = model_dir();
    o.endpoint = hub_.endpoint();
    o.max_retries = 3;
    o.initial_backoff = 1ms;
    return o;
  }
  std::filesystem::path model_dir() const { return tmp_.path() / "model"; }
  std::filesystem::path partial(const std::string& name) const {
    return model_dir() / ".cache" / (name + ".incomplete");
  }
  void expect_model_complete() {
    for (const char* name :
         {"config.json", "model.safetensors", "vocab.json", "merges.txt", "tokenizer.json",
          "tokenizer_config.json", "preprocessor_config.json"}) {
      EXPECT_EQ(testing::read_bytes(model_dir() / name), hub_.content(name)) << name;
    }
    EXPECT_FALSE(std::filesystem::exists(model_dir() / "special_tokens_map.json"));
  }

  FakeHub hub_;
  lookalike::testing::TempDir tmp_;
};

TEST_F(ModelPullerTest, DownloadsAndVerifiesEveryFile) {
  std::map<std::string, PullProgress> last_progress;
  auto result = pull_model(options(), [&](const PullProgress& p) { last_progress[p.file] = p; });
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  ASSERT_EQ(result->size(), 7u);
  for (const auto& file : *result) {
    SCOPED_TRACE(file.file);
    EXPECT_TRUE(file.verified);
    EXPECT_FALSE(file.skipped_existing);
    EXPECT_EQ(file.size, hub_.content(file.file).size());
    EXPECT_EQ(file.sha256, Sha256::of(hub_.content(file.file)));
    EXPECT_EQ(last_progress[file.file].done_bytes, file.size);
    EXPECT_EQ(last_progress[file.file].total_bytes, file.size);
  }
  expect_model_complete();
  EXPECT_FALSE(std::filesystem::exists(partial("model.safetensors")));

  auto seen = hub_.requests();
  auto api = only(seen, "hub", "/api/models/");
  ASSERT_EQ(api.size(), 1u);
  EXPECT_EQ(api[0].path, std::string("/api/models/") + kRepo + "/revision/main");
  EXPECT_EQ(api[0].blobs_param, "true");
  // Files come from the commit the listing named, not from the moving branch.
  EXPECT_EQ(only(seen, "hub", std::string("/resolve/") + kCommit + "/").size(), 7u);
  EXPECT_TRUE(only(seen, "hub", "/resolve/main/").empty());
  for (const auto& r : seen) EXPECT_EQ(r.range, "") << r.path;  // nothing to resume
}

TEST_F(ModelPullerTest, FollowsTheRedirectToTheCdnForLfsFiles) {
  auto result = pull_model(options());
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  auto seen = hub_.requests();
  auto cdn = only(seen, "cdn", "/blobs/");
  ASSERT_EQ(cdn.size(), 1u);
  EXPECT_EQ(cdn[0].path, "/blobs/" + Sha256::of(hub_.content("model.safetensors")));
  EXPECT_EQ(only(seen, "cdn", "").size(), 1u);  // small files come from the hub directly
  EXPECT_EQ(testing::read_bytes(model_dir() / "model.safetensors"),
            hub_.content("model.safetensors"));
}

TEST_F(ModelPullerTest, ResumesWithRangeAfterADroppedConnection) {
  const std::size_t dropped_at = 1024 * 1024 + 17;
  hub_.drop_after("model.safetensors", dropped_at, 1);
  auto result = pull_model(options());
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  expect_model_complete();

  auto cdn = only(hub_.requests(), "cdn", "/blobs/");
  ASSERT_EQ(cdn.size(), 2u);
  EXPECT_EQ(cdn[0].range, "");
  EXPECT_EQ(cdn[1].range, "bytes=" + std::to_string(dropped_at) + "-");
}

TEST_F(ModelPullerTest, ResumesAPartialFileLeftByAnEarlierRun) {
  const std::size_t dropped_at = 2 * 1024 * 1024;
  hub_.drop_after("model.safetensors", dropped_at, 1);
  auto first_options = options();
  first_options.max_retries = 0;
  auto first = pull_model(first_options);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, ErrorCode::kNetwork) << first.error().to_string();
  EXPECT_THAT(first.error().message, HasSubstr("model.safetensors"));
  EXPECT_FALSE(std::filesystem::exists(model_dir() / "model.safetensors"));  // never a half file
  EXPECT_EQ(std::filesystem::file_size(partial("model.safetensors")), dropped_at);

  hub_.clear_requests();
  auto second = pull_model(options());
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  expect_model_complete();
  auto cdn = only(hub_.requests(), "cdn", "/blobs/");
  ASSERT_EQ(cdn.size(), 1u);
  EXPECT_EQ(cdn[0].range, "bytes=" + std::to_string(dropped_at) + "-");
}

TEST_F(ModelPullerTest, RestartsFromZeroWhenTheServerIgnoresRange) {
  const std::size_t dropped_at = 512 * 1024;
  hub_.drop_after("model.safetensors", dropped_at, 1);
  auto first_options = options();
  first_options.max_retries = 0;
  ASSERT_FALSE(pull_model(first_options).ok());
  ASSERT_EQ(std::filesystem::file_size(partial("model.safetensors")), dropped_at);

  hub_.ignore_range(true);
  hub_.clear_requests();
  auto second = pull_model(options());
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  expect_model_complete();  // the 200 body replaced the partial file instead of being appended
  auto cdn = only(hub_.requests(), "cdn", "/blobs/");
  ASSERT_EQ(cdn.size(), 1u);
  EXPECT_EQ(cdn[0].range, "bytes=" + std::to_string(dropped_at) + "-");
}

TEST_F(ModelPullerTest, FinishesAPartialFileThatIsAlreadyComplete) {
  // A run that received every byte but stopped before the rename: nothing is fetched again.
  const std::size_t dropped_at = 1000;
  hub_.drop_after("model.safetensors", dropped_at, 1);
  auto first_options = options();
  first_options.max_retries = 0;
  ASSERT_FALSE(pull_model(first_options).ok());
  testing::write_bytes(partial("model.safetensors"), hub_.content("model.safetensors"));

  hub_.clear_requests();
  auto result = pull_model(options());
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  expect_model_complete();
  EXPECT_TRUE(only(hub_.requests(), "cdn", "").empty());
}

TEST_F(ModelPullerTest, RetriesTransientServerErrors) {
  hub_.fail_api(503, 2);
  auto result = pull_model(options());
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  expect_model_complete();
  EXPECT_EQ(only(hub_.requests(), "hub", "/api/models/").size(), 3u);

  hub_.fail_api(500, 10);
  auto o = options();
  o.dir = tmp_.path() / "other";
  o.max_retries = 1;
  auto failed = pull_model(o);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kNetwork);
  EXPECT_THAT(failed.error().message, HasSubstr("HTTP 500"));
}

TEST_F(ModelPullerTest, ChecksumMismatchIsAnErrorAndLeavesNoFile) {
  std::string corrupt = hub_.content("model.safetensors");
  corrupt[corrupt.size() / 2] ^= 0x5a;  // same size, different bytes
  hub_.serve_instead("model.safetensors", corrupt);
  auto result = pull_model(options());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kCorruptData) << result.error().to_string();
  EXPECT_THAT(result.error().message, HasSubstr("model.safetensors"));
  EXPECT_THAT(result.error().message, HasSubstr("sha256"));
  EXPECT_FALSE(std::filesystem::exists(model_dir() / "model.safetensors"));
  EXPECT_FALSE(std::filesystem::exists(partial("model.safetensors")));
}

TEST_F(ModelPullerTest, ChecksNonLfsFilesAgainstTheirGitBlobId) {
  hub_.serve_instead("vocab.json", R"({"a</w>": 1, "b</w>": 0})");  // same size
  auto result = pull_model(options());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kCorruptData) << result.error().to_string();
  EXPECT_THAT(result.error().message, HasSubstr("vocab.json"));
  EXPECT_FALSE(std::filesystem::exists(model_dir() / "vocab.json"));
}

TEST_F(ModelPullerTest, RequiredFileMissingFromTheRepoIsNamed) {
  hub_.remove_file("merges.txt");
  hub_.remove_file("vocab.json");
  auto result = pull_model(options());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(result.error().message, HasSubstr("vocab.json, merges.txt"));
  EXPECT_THAT(result.error().message, HasSubstr(kRepo));
}

TEST_F(ModelPullerTest, NotFoundOnResolveIsAClearError) {
  hub_.resolve_404("config.json");
  auto result = pull_model(options());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kNotFound) << result.error().to_string();
  EXPECT_THAT(result.error().message, HasSubstr("config.json"));
  EXPECT_THAT(result.error().message, HasSubstr(std::string(kRepo) + "@main"));
  EXPECT_EQ(only(hub_.requests(), "hub", "/resolve/").size(), 1u);  // a 404 is not retried
}

TEST_F(ModelPullerTest, UnknownRepositoryAndRevisionAreNamed) {
  auto o = options();
  o.repo = "acme/no-such-model";
  auto result = pull_model(o);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(result.error().message, HasSubstr("acme/no-such-model"));

  o = options();
  o.revision = "v9";
  result = pull_model(o);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(result.error().message, HasSubstr("revision 'v9'"));
}

TEST_F(ModelPullerTest, ReRunSkipsVerifiedFilesAndRepairsChangedOnes) {
  ASSERT_TRUE(pull_model(options()).ok());
  testing::write_bytes(model_dir() / "merges.txt", "#version: 0.2\nb a\n");  // edited locally
  hub_.clear_requests();

  auto result = pull_model(options());
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  for (const auto& file : *result) {
    EXPECT_EQ(file.skipped_existing, file.file != "merges.txt") << file.file;
    EXPECT_TRUE(file.verified) << file.file;
  }
  expect_model_complete();
  auto resolves = only(hub_.requests(), "hub", "/resolve/");
  ASSERT_EQ(resolves.size(), 1u);
  EXPECT_THAT(resolves[0].path, HasSubstr("merges.txt"));
  EXPECT_TRUE(only(hub_.requests(), "cdn", "").empty());
}

TEST_F(ModelPullerTest, SendsTheTokenAsBearerToTheHubOnly) {
  hub_.require_token("hf_secret");
  auto anonymous = pull_model(options());
  ASSERT_FALSE(anonymous.ok());
  EXPECT_EQ(anonymous.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(anonymous.error().message, HasSubstr("HF_TOKEN"));

  hub_.clear_requests();
  auto o = options();
  o.token = "hf_secret";
  auto result = pull_model(o, {});
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  expect_model_complete();
  auto seen = hub_.requests();
  for (const auto& r : only(seen, "hub", "")) EXPECT_EQ(r.authorization, "Bearer hf_secret");
  auto cdn = only(seen, "cdn", "");
  ASSERT_EQ(cdn.size(), 1u);
  EXPECT_EQ(cdn[0].authorization, "");  // another host: the token does not follow the redirect

  o.token = "hf_wrong";
  auto rejected = pull_model(o);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(ModelPullerTest, GivesUpWithNetworkErrorWhenTheServerIsUnreachable) {
  // A port that was bound (never listened on) and released: connections to it are refused.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ::close(fd);
  auto o = options();
  o.endpoint = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  o.max_retries = 2;
  auto result = pull_model(o);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kNetwork);
  EXPECT_THAT(result.error().message, HasSubstr("3 failed attempt"));
}

TEST_F(ModelPullerTest, RejectsMalformedOptions) {
  auto o = options();
  o.repo = "../etc";
  EXPECT_EQ(pull_model(o).error().code, ErrorCode::kInvalidArgument);
  o = options();
  o.files = {"../outside.json"};
  EXPECT_EQ(pull_model(o).error().code, ErrorCode::kInvalidArgument);
  o = options();
  o.dir.clear();
  EXPECT_EQ(pull_model(o).error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace lookalike::clip
