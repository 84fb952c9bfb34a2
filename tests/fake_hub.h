// FakeHub: an in-process fake of the Hugging Face Hub for tests (cpp-httplib on 127.0.0.1): the
// API listing with blob ids and LFS sha256, resolve URLs, LFS files redirected to a "CDN" on a
// second port, Range requests, and knobs for dropped connections, corruption and authentication.
#pragma once

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
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/sha256.h"

namespace lookalike::testing {

inline constexpr char kRepo[] = "acme/clip-tiny";
inline constexpr char kCommit[] = "0123456789abcdef0123456789abcdef01234567";
inline constexpr std::size_t kLfsSize = 3 * 1024 * 1024 + 123;

inline std::string git_blob_id(const std::string& content) {
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

}  // namespace lookalike::testing
