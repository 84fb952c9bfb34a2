// HttpClient: the libcurl transfers behind `lookalike model pull`: small GETs into memory and
// resumable downloads that append to a partial file with `Range: bytes=N-`.
// Thread-safety: one HttpClient per thread (it owns one curl handle and its connection cache).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/result.h"

namespace lookalike::clip {

struct HttpOptions {
  std::string
      bearer_token;  // "Authorization: Bearer ..."; libcurl drops it on cross-host redirects
  std::string user_agent = "lookalike/0.1";
  long connect_timeout_s = 30;
  long low_speed_limit_bytes = 1024;  // a transfer slower than this many bytes per second...
  long low_speed_time_s = 30;  // ...for this many seconds is aborted; there is no total timeout
  long max_redirects = 10;
};

// Header names are lowercased; a repeated header keeps its last value.
using HttpHeaders = std::map<std::string, std::string>;

struct HttpResponse {
  long status = 0;
  std::string body;     // the final response's body (for downloads: only an error body, capped)
  HttpHeaders headers;  // the final response's headers (after redirects)
  HttpHeaders
      first_headers;  // the first response's headers (the hub's own, before any CDN redirect)
  std::uint64_t file_size = 0;  // downloads: size of the partial file after the transfer
  bool restarted = false;       // downloads: the server ignored Range and resent the file from zero
};

// (bytes of the file on disk so far, total size announced by the server or 0 if unknown)
using HttpProgressFn = std::function<void(std::uint64_t done, std::uint64_t total)>;

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // GET into memory, following redirects. Any HTTP status is a response; errors are transport
  // failures: kNetwork (worth retrying), kResourceExhausted (body over max_body_bytes),
  // kInvalidArgument (malformed URL).
  Result<HttpResponse> get(const std::string& url, std::size_t max_body_bytes = 64u << 20);

  // GET `url` into `partial`, resuming from its current size N with `Range: bytes=N-`: a 206 that
  // starts at N is appended, a 200 rewrites the file from zero, any other status leaves the file
  // as it was. After a kNetwork error the bytes already received stay in `partial` for the next
  // attempt; kIoError means the local file could not be written.
  Result<HttpResponse> download(const std::string& url, const std::filesystem::path& partial,
                                const HttpProgressFn& progress = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lookalike::clip
