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
#include "test_support.h"

namespace lookalike::clip {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr char kRepo[] = "acme/clip-tiny";
constexpr char kCommit[] = "0123456789abcdef0123456789abcdef01234567";
constexpr std::size_t kLfsSize = 3 * 1024 * 1024 + 123;

std::string git_blob_id(const std::string& content) {
  std::string data = "blob " + std::to_string(content.size()) + '\0' + content;
  unsigned char raw[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), raw, &length, EVP_sha1(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += "0123456789abcdef"[raw[i] >> 4];
    hex += "0123456789abcdef"[raw[i] & 15];
  }
  return hex;
}

struct SeenRequest {
  std::string server;  // "hub" or "cdn"
  std::string path;
  std::string range;
  std::string authorization;
  std::string blobs_param;
};

struct FakeFile {
  std::string content;
  bool lfs = false;
};

// The hub's URL layout and headers, with knobs to misbehave. Handlers run on server threads.
class FakeHub {
 public:
  FakeHub() {
    hub_port_ = hub_.bind_to_any_port("127.0.0.1");
    cdn_port_ = cdn_.bind_to_any_port("127.0.0.1");
    hub_.Get(R"(/api/models/([^/]+/[^/]+)/revision/([^/]+))",
             [this](const httplib::Request& req, httplib::Response& res) { api(req, res); });
    hub_.Get(R"(/([^/]+/[^/]+)/resolve/([^/]+)/(.+))",
             [this](const httplib::Request& req, httplib::Response& res) { resolve(req, res); });
    cdn_.Get(R"(/blobs/([0-9a-f]{64}))",
             [this](const httplib::Request& req, httplib::Response& res) { cdn(req, res); });
    hub_thread_ = std::thread([this] { hub_.listen_after_bind(); });
    cdn_thread_ = std::thread([this] { cdn_.listen_after_bind(); });
  }
  ~FakeHub() {
    hub_.stop();
    cdn_.stop();
    hub_thread_.join();
    cdn_thread_.join();
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(hub_port_); }

  void add_file(const std::string& name, std::string content, bool lfs = false) {
    std::lock_guard lock(mutex_);
    files_[name] = FakeFile{std::move(content), lfs};
  }
  void remove_file(const std::string& name) {
    std::lock_guard lock(mutex_);
    files_.erase(name);
  }
  const std::string& content(const std::string& name) {
    std::lock_guard lock(mutex_);
    return files_.at(name).content;
  }
  // The next `times` responses for `name` close the connection after `bytes` body bytes.
  void drop_after(const std::string& name, std::size_t bytes, int times) {
    std::lock_guard lock(mutex_);
    drop_name_ = name;
    drop_bytes_ = bytes;
    drops_left_ = times;
  }
  // The next `times` API calls answer `status` (with Retry-After: 0).
  void fail_api(int status, int times) {
    std::lock_guard lock(mutex_);
    api_failure_status_ = status;
    api_failures_left_ = times;
  }
  void ignore_range(bool on) {
    std::lock_guard lock(mutex_);
    ignore_range_ = on;
  }
  void resolve_404(const std::string& name) {
    std::lock_guard lock(mutex_);
    resolve_404_.insert(name);
  }
  // Serve these bytes for `name` while the API still announces the original checksum.
  void serve_instead(const std::string& name, std::string bytes) {
    std::lock_guard lock(mutex_);
    served_instead_[name] = std::move(bytes);
  }
  void require_token(std::string token) {
    std::lock_guard lock(mutex_);
    token_ = std::move(token);
  }
  std::vector<SeenRequest> requests() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  void clear_requests() {
    std::lock_guard lock(mutex_);
    seen_.clear();
  }

 private:
  void record(const std::string& server, const httplib::Request& req) {
    seen_.push_back(SeenRequest{server, req.path, req.get_header_value("Range"),
                                req.get_header_value("Authorization"),
                                req.get_param_value("blobs")});
  }

  bool authorised(const httplib::Request& req, httplib::Response& res) {
    if (token_.empty() || req.get_header_value("Authorization") == "Bearer " + token_) return true;
    res.status = 401;
    res.set_header("X-Error-Code", "RepoNotFound");
    res.set_content("{\"error\":\"Repository not found\"}", "application/json");
    return false;
  }

  void api(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    record("hub", req);
    if (api_failures_left_ > 0) {
      --api_failures_left_;
      res.status = api_failure_status_;
      res.set_header("Retry-After", "0");
      return;
    }
    if (!authorised(req, res)) return;
    if (req.matches[1] != kRepo) {
      res.status = 404;
      res.set_header("X-Error-Code", "RepoNotFound");
      return;
    }
    if (req.matches[2] != "main" && req.matches[2] != kCommit) {
      res.status = 404;
      res.set_header("X-Error-Code", "RevisionNotFound");
      return;
    }
    nlohmann::json siblings = nlohmann::json::array();
    for (const auto& [name, file] : files_) {
      nlohmann::json entry = {{"rfilename", name}, {"size", file.content.size()}};
      if (file.lfs) {
        entry["blobId"] = git_blob_id("pointer of " + name);  // an LFS blob id hashes the pointer
        entry["lfs"] = {{"sha256", Sha256::of(file.content)},
                        {"size", file.content.size()},
                        {"pointerSize", 134}};
      } else {
        entry["blobId"] = git_blob_id(file.content);
      }
      siblings.push_back(entry);
    }
    nlohmann::json body = {{"id", kRepo}, {"sha", kCommit}, {"siblings", siblings}};
    res.set_content(body.dump(), "application/json");
  }

  void resolve(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    record("hub", req);
    if (!authorised(req, res)) return;
    std::string name = req.matches[3];
    auto it = files_.find(name);
    if (req.matches[1] != kRepo || req.matches[2] != kCommit || it == files_.end() ||
        resolve_404_.contains(name)) {
      res.status = 404;
      res.set_header("X-Error-Code", "EntryNotFound");
      res.set_content("Entry not found", "text/plain");
      return;
    }
    res.set_header("X-Repo-Commit", kCommit);
    if (it->second.lfs) {  // like the hub: LFS files live on the CDN
      std::string sha = Sha256::of(it->second.content);
      res.status = 302;
      res.set_header("Location", "http://127.0.0.1:" + std::to_string(cdn_port_) + "/blobs/" + sha);
      res.set_header("X-Linked-Etag", "\"" + sha + "\"");
      res.set_header("X-Linked-Size", std::to_string(it->second.content.size()));
      return;
    }
    res.set_header("ETag", "\"" + git_blob_id(it->second.content) + "\"");
    serve(req, res, name, it->second.content);
  }

  void cdn(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    record("cdn", req);
    for (const auto& [name, file] : files_) {
      if (file.lfs && Sha256::of(file.content) == req.matches[1]) {
        serve(req, res, name, file.content);
        return;
      }
    }
    res.status = 404;
  }

  // Answers Range itself (httplib would otherwise slice the body on its own).
  void serve(const httplib::Request& req, httplib::Response& res, const std::string& name,
             const std::string& original) {
    auto body = std::make_shared<std::string>(
        served_instead_.contains(name) ? served_instead_.at(name) : original);
    std::string range = req.get_header_value("Range");
    const_cast<httplib::Request&>(req).ranges.clear();
    std::size_t start = 0;
    res.status = 200;
    if (!range.empty() && !ignore_range_) {
      EXPECT_TRUE(range.starts_with("bytes=") && range.ends_with("-")) << range;
      start = std::stoull(range.substr(6));
      if (start >= body->size()) {
        res.status = 416;
        res.set_header("Content-Range", "bytes */" + std::to_string(body->size()));
        return;
      }
      res.status = 206;
      res.set_header("Content-Range", "bytes " + std::to_string(start) + "-" +
                                          std::to_string(body->size() - 1) + "/" +
                                          std::to_string(body->size()));
    }
    std::size_t drop_at = SIZE_MAX;
    if (name == drop_name_ && drops_left_ > 0) {
      --drops_left_;
      drop_at = drop_bytes_;
    }
    res.set_content_provider(
        body->size() - start, "application/octet-stream",
        [body, start, drop_at](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
          std::size_t end = offset + std::min<std::size_t>(length, 64 * 1024);
          if (end > drop_at) {  // send up to the drop point, then close the connection
            if (offset < drop_at) sink.write(body->data() + start + offset, drop_at - offset);
            return false;
          }
          sink.write(body->data() + start + offset, end - offset);
          return true;
        });
  }

  httplib::Server hub_;
  httplib::Server cdn_;
  int hub_port_ = 0;
  int cdn_port_ = 0;
  std::thread hub_thread_;
  std::thread cdn_thread_;
  std::mutex mutex_;
  std::map<std::string, FakeFile> files_;
  std::vector<SeenRequest> seen_;
  std::string drop_name_;
  std::size_t drop_bytes_ = 0;
  int drops_left_ = 0;
  int api_failure_status_ = 0;
  int api_failures_left_ = 0;
  bool ignore_range_ = false;
  std::set<std::string> resolve_404_;
  std::map<std::string, std::string> served_instead_;
  std::string token_;
};

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
