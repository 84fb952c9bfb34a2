// HttpClient: every outgoing HTTP transfer (libcurl): model pulls (GETs into memory, resumable
// downloads with `Range: bytes=N-`), S3 (SigV4-signed requests), Qdrant's REST API, image URLs.
// Thread-safety: one HttpClient per thread (it owns one curl handle and its connection cache).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace lookalike {

struct HttpOptions {
  std::string
      bearer_token;  // "Authorization: Bearer ..."; libcurl drops it on cross-host redirects
  std::string user_agent = "lookalike/0.1";
  long connect_timeout_s = 30;
  long low_speed_limit_bytes = 1024;  // a transfer slower than this many bytes per second...
  long low_speed_time_s = 30;  // ...for this many seconds is aborted; there is no total timeout
  long max_redirects = 10;     // 0: redirects are not followed (the 3xx is the response)
  long timeout_s = 0;   // whole-transfer limit for get() and request(); 0: none (never downloads)
  long timeout_ms = 0;  // when > 0, replaces timeout_s with a limit in milliseconds
};

// AWS Signature Version 4 for request() (libcurl's CURLOPT_AWS_SIGV4). request() adds
// x-amz-content-sha256 (the body's SHA-256, which S3 requires) unless the caller sent one. libcurl
// 7.88 signs the query string as written and every header in HttpRequest::headers, so URLs must
// carry a query already sorted and encoded as AWS canonicalises it, and no header may be empty.
struct AwsSigV4 {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // sent as x-amz-security-token when not empty
  std::string region = "us-east-1";
  std::string service = "s3";
};

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE, PATCH
  std::string url;
  // Sent as given. A body without a Content-Type header goes out as application/octet-stream.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::optional<AwsSigV4> sigv4;
  // A successful (2xx) response body longer than this fails with kResourceExhausted, as soon as
  // Content-Length announces it or the bytes received pass it. Other statuses keep the first
  // 64 KiB of their body (an error page is for the message) and are not failures.
  std::size_t max_body_bytes = 64u << 20;
  // libcurl CURLOPT_RESOLVE entries "host:port:address[,address]" (IPv6 addresses in brackets):
  // connect to these addresses instead of resolving host, so that an address checked before the
  // request is the one connected to. Pins last for this request only.
  std::vector<std::string> resolve;
};

// Retries of request_with_retries(): transport errors (kNetwork) and the statuses 408, 429, 500,
// 502, 503 and 504 are tried again, at most max_attempts times in all. The n-th wait is
// initial_backoff * multiplier^(n-1), capped at max_backoff, with jitter (a random point in its
// upper half); a Retry-After header (seconds or an HTTP date) replaces it, up to max_retry_after.
struct RetryPolicy {
  int max_attempts = 4;
  std::chrono::milliseconds initial_backoff{200};
  double multiplier = 2.0;
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds max_retry_after{60000};
};

// Whether a response with this status is worth sending again (see RetryPolicy).
bool is_retryable_status(long status);

// Header names are lowercased; a repeated header keeps its last value.
using HttpHeaders = std::map<std::string, std::string>;

struct HttpResponse {
  long status = 0;
  std::string body;     // the final response's body (for downloads: only an error body, capped)
  HttpHeaders headers;  // the final response's headers (after redirects)
  HttpHeaders
      first_headers;  // the first response's headers (the hub's own, before any CDN redirect)
  std::string effective_url;    // the URL of the final response (after redirects)
  std::string primary_ip;       // the address of the last connection (request() only)
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

  // GET into memory, following redirects (http and https only). Any HTTP status is a response;
  // errors are transport failures: kNetwork (worth retrying: refused, reset, timed out),
  // kResourceExhausted (a 2xx body over max_body_bytes), kInvalidArgument (malformed URL or
  // another scheme), kFailedPrecondition (TLS certificate problems).
  Result<HttpResponse> get(const std::string& url, std::size_t max_body_bytes = 64u << 20);

  // Any method with headers and a body; the response body is kept in memory. Statuses are
  // responses and errors are transport failures, as for get().
  Result<HttpResponse> request(const HttpRequest& request);
  // request() again after transport errors and retryable statuses (see RetryPolicy). Returns the
  // last attempt's response or error.
  Result<HttpResponse> request_with_retries(const HttpRequest& request, const RetryPolicy& policy);

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

}  // namespace lookalike
