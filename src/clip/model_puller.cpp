#include "clip/model_puller.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/file_util.h"
#include "core/http_client.h"
#include "core/sha256.h"

namespace lookalike::clip {

namespace fs = std::filesystem;

namespace {

constexpr std::chrono::milliseconds kMaxBackoff{60'000};

// What the hub says about one file, or what a download must match.
struct Expectation {
  std::optional<std::uint64_t> size;
  std::string sha256;   // LFS files: sha256 of the content
  std::string blob_id;  // other files: git blob id = sha1("blob <size>\0" + content)

  bool hash_known() const { return !sha256.empty() || !blob_id.empty(); }
};

struct RepoListing {
  std::string commit;
  std::map<std::string, Expectation> files;
};

struct LocalDigest {
  std::uint64_t size = 0;
  std::string sha256;
  std::string git_sha1;
};

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return text;
}

bool is_hex(std::string_view text, std::size_t length) {
  return text.size() == length && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Like Python's urllib.parse.quote, which huggingface_hub applies to revisions (safe="") and
// file names (safe="/").
std::string percent_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

std::string trim(std::string text) {
  auto space = [](unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.back())) text.pop_back();
  std::size_t start = 0;
  while (start < text.size() && space(text[start])) ++start;
  return text.substr(start);
}

Status validate_options(const PullOptions& options) {
  const std::string& repo = options.repo;
  bool repo_ok = !repo.empty() && repo.front() != '/' && repo.back() != '/' &&
                 std::count(repo.begin(), repo.end(), '/') <= 1 &&
                 repo.find("..") == std::string::npos &&
                 std::all_of(repo.begin(), repo.end(),
                             [](unsigned char c) { return is_unreserved(c) || c == '/'; });
  if (!repo_ok) {
    return make_error(ErrorCode::kInvalidArgument,
                      "'" + repo + "' is not a Hugging Face repository id like 'owner/name'");
  }
  if (options.revision.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "the revision must not be empty");
  }
  if (options.dir.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "no destination directory given");
  }
  if (!options.endpoint.starts_with("http://") && !options.endpoint.starts_with("https://")) {
    return make_error(ErrorCode::kInvalidArgument,
                      "endpoint '" + options.endpoint + "' is not an http(s) URL");
  }
  if (options.max_retries < 0) {
    return make_error(ErrorCode::kInvalidArgument, "max_retries must not be negative");
  }
  for (const auto& file : options.files) {
    fs::path path(file);
    bool ok = !file.empty() && path.is_relative() && file.find('\\') == std::string::npos &&
              file.find('\0') == std::string::npos;
    for (const auto& part : path) {
      ok = ok && !part.empty() && part != "." && part != "..";
    }
    if (!ok)
      return make_error(ErrorCode::kInvalidArgument, "'" + file + "' is not a repo file name");
  }
  return ok_status();
}

// Reads the file once for its sha256 and, when asked, its git blob id.
Result<LocalDigest> digest_file(const fs::path& path, bool want_git_sha1) {
  std::error_code ec;
  LocalDigest digest;
  digest.size = fs::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (ec || !in) return make_error(ErrorCode::kIoError, path.string() + ": cannot read");
  Sha256 sha256;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sha1(nullptr, EVP_MD_CTX_free);
  if (want_git_sha1) {
    sha1.reset(EVP_MD_CTX_new());
    std::string header = "blob " + std::to_string(digest.size) + '\0';
    if (!sha1 || EVP_DigestInit_ex(sha1.get(), EVP_sha1(), nullptr) != 1 ||
        EVP_DigestUpdate(sha1.get(), header.data(), header.size()) != 1) {
      return make_error(ErrorCode::kInternal, "OpenSSL: cannot initialise SHA-1");
    }
  }
  std::vector<char> buffer(1 << 20);
  std::uint64_t total = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    auto n = static_cast<std::size_t>(in.gcount());
    sha256.update(std::string_view(buffer.data(), n));
    if (sha1) EVP_DigestUpdate(sha1.get(), buffer.data(), n);
    total += n;
  }
  if (in.bad() || total != digest.size) {
    return make_error(ErrorCode::kIoError, path.string() + ": read failed");
  }
  digest.sha256 = sha256.hex_digest();
  if (sha1) {
    unsigned char raw[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(sha1.get(), raw, &length);
    static constexpr char kHex[] = "0123456789abcdef";
    for (unsigned int i = 0; i < length; ++i)
      digest.git_sha1 += {kHex[raw[i] >> 4], kHex[raw[i] & 15]};
  }
  return digest;
}

// Empty when the file matches what is expected of it, else what differs.
std::string mismatch(const LocalDigest& digest, const Expectation& expect) {
  if (expect.size && digest.size != *expect.size) {
    return "size " + std::to_string(digest.size) + " bytes, expected " +
           std::to_string(*expect.size);
  }
  if (!expect.sha256.empty() && digest.sha256 != expect.sha256) {
    return "sha256 " + digest.sha256 + ", expected " + expect.sha256;
  }
  if (!expect.blob_id.empty() && digest.git_sha1 != expect.blob_id) {
    return "git blob id " + digest.git_sha1 + ", expected " + expect.blob_id;
  }
  return "";
}

// When the API gave no checksum or size, the hub's own headers on the resolve URL still carry
// them: X-Linked-Size, and X-Linked-Etag (or ETag) = sha256 for LFS files, git blob id otherwise.
void apply_header_fallbacks(Expectation& expect, const HttpHeaders& headers) {
  if (auto it = headers.find("x-linked-size"); !expect.size && it != headers.end()) {
    std::uint64_t size = 0;
    const std::string& text = it->second;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), size);
    if (ec == std::errc() && end == text.data() + text.size()) expect.size = size;
  }
  if (expect.hash_known()) return;
  auto it = headers.find("x-linked-etag");
  if (it == headers.end()) it = headers.find("etag");
  if (it == headers.end()) return;
  std::string etag = it->second;
  if (etag.starts_with("W/")) etag.erase(0, 2);
  etag.erase(std::remove(etag.begin(), etag.end(), '"'), etag.end());
  etag = lowercase(etag);
  if (is_hex(etag, 64)) expect.sha256 = etag;
  if (is_hex(etag, 40)) expect.blob_id = etag;
}

Result<RepoListing> parse_listing(const std::string& body, const std::string& url) {
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return make_error(ErrorCode::kCorruptData, url + ": the hub's answer is not a JSON object");
  }
  auto siblings = json.find("siblings");
  if (siblings == json.end() || !siblings->is_array()) {
    return make_error(ErrorCode::kCorruptData, url + ": the hub's answer has no 'siblings' list");
  }
  RepoListing listing;
  if (auto sha = json.find("sha"); sha != json.end() && sha->is_string()) {
    listing.commit = lowercase(sha->get<std::string>());
  }
  auto string_field = [](const nlohmann::json& object, const char* key) -> std::string {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? lowercase(it->get<std::string>()) : "";
  };
  auto size_field = [](const nlohmann::json& object) -> std::optional<std::uint64_t> {
    auto it = object.find("size");
    if (it == object.end() || !it->is_number_unsigned()) return std::nullopt;
    return it->get<std::uint64_t>();
  };
  for (const auto& sibling : *siblings) {
    if (!sibling.is_object()) continue;
    auto name = sibling.find("rfilename");
    if (name == sibling.end() || !name->is_string()) continue;
    Expectation file;
    file.size = size_field(sibling);
    file.blob_id = string_field(sibling, "blobId");
    if (auto lfs = sibling.find("lfs"); lfs != sibling.end() && lfs->is_object()) {
      file.sha256 = string_field(*lfs, "sha256");
      if (auto size = size_field(*lfs)) file.size = size;
      file.blob_id.clear();  // an LFS file's blob id hashes its pointer, not its content
    }
    if (!is_hex(file.sha256, 64)) file.sha256.clear();
    if (!is_hex(file.blob_id, 40)) file.blob_id.clear();
    listing.files[name->get<std::string>()] = std::move(file);
  }
  return listing;
}

bool retryable_status(long status) { return status == 408 || status == 429 || status >= 500; }

// 401/403/404 and other final answers, named after what was asked for.
Error status_error(const HttpResponse& response, const PullOptions& options,
                   const std::string& endpoint, const std::string& file) {
  auto header = [&](const char* name) {
    auto it = response.headers.find(name);
    return it == response.headers.end() ? std::string() : it->second;
  };
  std::string code = header("x-error-code");
  std::string message = header("x-error-message");
  std::string detail = message.empty() ? "" : " (" + message + ")";
  std::string where = options.repo + "@" + options.revision + (file.empty() ? "" : ": " + file);
  std::string status = std::to_string(response.status);
  const std::string hint =
      "; if the repository is private or gated, set HF_TOKEN to a token that can read it";
  switch (response.status) {
    case 404:
      if (code == "RepoNotFound" || (file.empty() && code.empty())) {
        return make_error(ErrorCode::kNotFound,
                          options.repo + ": repository not found on " + endpoint + detail + hint);
      }
      if (code == "RevisionNotFound") {
        return make_error(ErrorCode::kNotFound, options.repo + ": revision '" + options.revision +
                                                    "' not found" + detail);
      }
      return make_error(ErrorCode::kNotFound, where + ": file not found (HTTP 404)" + detail);
    case 401:
      if (options.token.empty()) {
        return make_error(ErrorCode::kNotFound,
                          where + ": not found or not public (HTTP 401)" + detail + hint);
      }
      return make_error(ErrorCode::kFailedPrecondition,
                        where + ": the hub rejected the token (HTTP 401)" + detail);
    case 403:
      return make_error(
          ErrorCode::kFailedPrecondition,
          where + ": access denied (HTTP 403)" + detail +
              (code == "GatedRepo"
                   ? "; the repository is gated: accept its conditions on the hub and use a "
                     "token of that account"
                   : "; check that the token may read this repository"));
    default:
      return make_error(ErrorCode::kNetwork, where + ": unexpected HTTP " + status + detail);
  }
}

// Retry-After in seconds (429/503), capped by the longest backoff.
std::chrono::milliseconds retry_after(const HttpHeaders& headers) {
  auto it = headers.find("retry-after");
  long seconds = 0;
  if (it == headers.end()) return {};
  auto [end, ec] =
      std::from_chars(it->second.data(), it->second.data() + it->second.size(), seconds);
  if (ec != std::errc() || seconds <= 0) return {};
  return std::min<std::chrono::milliseconds>(std::chrono::seconds(seconds), kMaxBackoff);
}

void backoff(const PullOptions& options, int failures, std::chrono::milliseconds floor) {
  auto delay = options.initial_backoff * (std::int64_t{1} << std::min(failures - 1, 16));
  std::this_thread::sleep_for(std::max(std::min(delay, kMaxBackoff), floor));
}

std::uint64_t size_or_zero(const fs::path& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

// An exclusive flock on DIR/.cache/pull.lock, released when the descriptor closes.
class PullLock {
 public:
  static Result<PullLock> acquire(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return make_error(ErrorCode::kIoError, path.string() + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      return make_error(
          ErrorCode::kFailedPrecondition,
          "another pull is already writing into " + path.parent_path().parent_path().string());
    }
    return PullLock(fd);
  }
  PullLock(PullLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  PullLock(const PullLock&) = delete;
  PullLock& operator=(const PullLock&) = delete;
  PullLock& operator=(PullLock&&) = delete;
  ~PullLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit PullLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

class Puller {
 public:
  Puller(const PullOptions& options, std::string endpoint, const PullProgressFn& progress)
      : options_(options),
        endpoint_(std::move(endpoint)),
        cache_(options.dir / ".cache"),
        http_(HttpOptions{.bearer_token = options.token}),
        progress_(progress) {}

  Result<RepoListing> fetch_listing() {
    std::string url = endpoint_ + "/api/models/" + options_.repo + "/revision/" +
                      percent_encode(options_.revision, false) + "?blobs=true";
    for (int failures = 0;;) {
      auto response = http_.get(url);
      std::string failure;
      std::chrono::milliseconds floor{0};
      if (!response) {
        if (response.error().code != ErrorCode::kNetwork) return response.error();
        failure = response.error().message;
      } else if (response->status == 200) {
        return parse_listing(response->body, url);
      } else if (retryable_status(response->status)) {
        failure = url + ": HTTP " + std::to_string(response->status);
        floor = retry_after(response->headers);
      } else {
        return status_error(*response, options_, endpoint_, "");
      }
      if (++failures > options_.max_retries) return gave_up(options_.repo, failures, failure);
      backoff(options_, failures, floor);
    }
  }

  Result<PulledFile> pull(const std::string& name, Expectation expect, const std::string& commit) {
    const fs::path final_path = options_.dir / name;
    const fs::path partial = cache_ / (name + ".incomplete");
    const fs::path source_path = cache_ / (name + ".incomplete.source");
    auto note = [&](std::uint64_t done, std::uint64_t total) {
      if (progress_) progress_(PullProgress{name, done, total});
    };
    std::error_code ec;

    if (fs::is_regular_file(final_path, ec) && (expect.size || expect.hash_known())) {
      auto digest = digest_file(final_path, !expect.blob_id.empty());
      if (!digest) return digest.error();
      if (mismatch(*digest, expect).empty()) {
        note(digest->size, digest->size);
        return PulledFile{name, digest->size, digest->sha256, expect.hash_known(), true};
      }
    }
    fs::create_directories(partial.parent_path(), ec);
    if (!ec) fs::create_directories(final_path.parent_path(), ec);
    if (ec)
      return make_error(ErrorCode::kIoError, partial.parent_path().string() + ": " + ec.message());

    // A partial file left by an earlier run is resumed only if it was for the same content.
    std::string source = !expect.sha256.empty()    ? "sha256 " + expect.sha256
                         : !expect.blob_id.empty() ? "git-blob " + expect.blob_id
                                                   : "commit " + commit;
    auto previous = read_file(source_path);
    if (!previous || *previous != source) {
      fs::remove(partial, ec);
      if (auto written = write_file_atomic(source_path, source); !written) return written.error();
    }

    const std::string url = endpoint_ + "/" + options_.repo + "/resolve/" +
                            percent_encode(commit, false) + "/" + percent_encode(name, true);
    for (int failures = 0;;) {
      std::uint64_t before = size_or_zero(partial);
      if (expect.size && before > *expect.size) {
        fs::remove(partial, ec);
        before = 0;
      }
      if (expect.size && *expect.size > 0 && before == *expect.size) break;  // complete already
      auto response = http_.download(url, partial, [&](std::uint64_t done, std::uint64_t total) {
        note(done, expect.size ? *expect.size : total);
      });
      std::string failure;
      std::chrono::milliseconds floor{0};
      if (!response) {
        if (response.error().code != ErrorCode::kNetwork)
          return response.error().with_context(name);
        failure = response.error().message;
      } else {
        apply_header_fallbacks(expect, response->first_headers);
        long status = response->status;
        if (status == 200 || status == 206) {
          if (!expect.size || response->file_size >= *expect.size) break;
          failure = url + ": connection closed after " + std::to_string(response->file_size) +
                    " of " + std::to_string(*expect.size) + " bytes";
        } else if (status == 416) {  // nothing left to send from that offset
          if (expect.size && response->file_size == *expect.size) break;
          fs::remove(partial, ec);
          failure = url + ": HTTP 416 for a resume from byte " + std::to_string(before);
        } else if (retryable_status(status)) {
          failure = url + ": HTTP " + std::to_string(status);
          floor = retry_after(response->headers);
        } else {
          return status_error(*response, options_, endpoint_, name);
        }
      }
      // The retry budget is for failures in a row: an attempt that brought bytes resets it.
      if (size_or_zero(partial) > before) failures = 0;
      if (++failures > options_.max_retries) return gave_up(name, failures, failure);
      backoff(options_, failures, floor);
    }

    auto digest = digest_file(partial, !expect.blob_id.empty());
    if (!digest) return digest.error();
    if (auto why = mismatch(*digest, expect); !why.empty()) {
      fs::remove(partial, ec);
      fs::remove(source_path, ec);
      return make_error(ErrorCode::kCorruptData,
                        name + ": the download does not match the hub (" + why +
                            "); the partial file was deleted, pull again to retry");
    }
    fs::rename(partial, final_path, ec);
    if (ec) return make_error(ErrorCode::kIoError, final_path.string() + ": " + ec.message());
    fs::remove(source_path, ec);
    note(digest->size, digest->size);
    return PulledFile{name, digest->size, digest->sha256, expect.hash_known(), false};
  }

 private:
  static Error gave_up(const std::string& what, int failures, const std::string& failure) {
    return make_error(ErrorCode::kNetwork, what + ": giving up after " + std::to_string(failures) +
                                               " failed attempt(s) in a row; last: " + failure);
  }

  const PullOptions& options_;
  std::string endpoint_;
  fs::path cache_;
  HttpClient http_;
  const PullProgressFn& progress_;
};

}  // namespace

const std::vector<std::string>& required_model_files() {
  static const std::vector<std::string> files = {"config.json", "model.safetensors", "vocab.json",
                                                 "merges.txt", "preprocessor_config.json"};
  return files;
}

Result<std::vector<PulledFile>> pull_model(const PullOptions& options,
                                           const PullProgressFn& progress) {
  if (auto valid = validate_options(options); !valid) return valid.error();
  std::string endpoint = options.endpoint;
  while (endpoint.ends_with('/')) endpoint.pop_back();

  std::error_code ec;
  fs::create_directories(options.dir / ".cache", ec);
  if (ec) return make_error(ErrorCode::kIoError, options.dir.string() + ": " + ec.message());
  auto lock = PullLock::acquire(options.dir / ".cache" / "pull.lock");
  if (!lock) return lock.error();

  Puller puller(options, endpoint, progress);
  auto listing = puller.fetch_listing();
  if (!listing) return listing.error();

  std::vector<std::string> wanted;
  std::string missing_required;
  for (const auto& file : options.files) {
    if (std::find(wanted.begin(), wanted.end(), file) != wanted.end()) continue;
    const auto& required = required_model_files();
    bool is_required = std::find(required.begin(), required.end(), file) != required.end();
    if (listing->files.contains(file)) {
      wanted.push_back(file);
    } else if (is_required) {
      missing_required += (missing_required.empty() ? "" : ", ") + file;
    }
  }
  if (!missing_required.empty()) {
    return make_error(ErrorCode::kNotFound,
                      options.repo + "@" + options.revision + ": the repository has no " +
                          missing_required + " (is it a CLIP model in the transformers layout?)");
  }

  // Every file comes from the commit the revision named when the listing was taken, even if the
  // branch moves while the pull runs.
  std::string commit = is_hex(listing->commit, 40) ? listing->commit : options.revision;
  std::vector<PulledFile> pulled;
  for (const auto& file : wanted) {
    auto result = puller.pull(file, listing->files.at(file), commit);
    if (!result) return result.error();
    pulled.push_back(std::move(*result));
  }
  return pulled;
}

std::string default_hf_endpoint() {
  const char* env = std::getenv("HF_ENDPOINT");
  std::string endpoint = env != nullptr && *env != '\0' ? env : "https://huggingface.co";
  while (endpoint.ends_with('/')) endpoint.pop_back();
  return endpoint;
}

std::string default_hf_token() {
  for (const char* name : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"}) {
    if (const char* value = std::getenv(name); value != nullptr && *value != '\0')
      return trim(value);
  }
  auto env_path = [](const char* name) -> fs::path {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0' ? fs::path(value) : fs::path();
  };
  fs::path path = env_path("HF_TOKEN_PATH");
  if (path.empty() && !env_path("HF_HOME").empty()) path = env_path("HF_HOME") / "token";
  if (path.empty() && !env_path("XDG_CACHE_HOME").empty()) {
    path = env_path("XDG_CACHE_HOME") / "huggingface" / "token";
  }
  if (path.empty() && !env_path("HOME").empty()) {
    path = env_path("HOME") / ".cache" / "huggingface" / "token";
  }
  if (path.empty()) return "";
  auto text = read_file(path);
  return text ? trim(*text) : "";
}

}  // namespace lookalike::clip
