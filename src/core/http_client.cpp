#include "core/http_client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <mutex>
#include <random>
#include <string_view>
#include <thread>

#include "core/sha256.h"

namespace lookalike {

namespace {

constexpr std::size_t kMaxErrorBody = 64 * 1024;
constexpr std::uint64_t kProgressStep = 1 << 20;

void ensure_curl_initialised() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
  text = trim(text);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// State shared by the libcurl callbacks of one transfer.
struct Transfer {
  long status = 0;
  int response_count = 0;
  HttpHeaders headers;
  HttpHeaders first_headers;
  // Memory mode.
  std::string* body = nullptr;
  std::size_t max_body = 0;
  bool body_too_large = false;
  bool length_checked = false;     // Content-Length compared with max_body
  bool error_body_capped = false;  // a non-2xx body was cut at kMaxErrorBody (not an error)
  // File mode.
  int fd = -1;
  std::uint64_t file_size = 0;
  std::uint64_t total = 0;
  std::uint64_t last_report = 0;
  bool decided = false;
  bool writing_file = false;
  bool restarted = false;
  int io_errno = 0;
  std::string abort_reason;
  std::string error_body;
  const HttpProgressFn* progress = nullptr;
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {  // a new response begins (redirects produce several)
    auto space = line.find(' ');
    long status = 0;
    if (space != std::string_view::npos) {
      parse_number(line.substr(space + 1, std::min<std::size_t>(3, line.size() - space - 1)),
                   status);
    }
    if (status >= 100 && status < 200) {  // "100 Continue" and the like: the real one follows
      t->status = status;
      return size * count;
    }
    ++t->response_count;
    t->headers.clear();
    t->decided = false;
    t->status = status;
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    std::string name(trim(line.substr(0, colon)));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value(trim(line.substr(colon + 1)));
    if (t->response_count == 1) t->first_headers[name] = value;
    t->headers[std::move(name)] = std::move(value);
  }
  return size * count;
}

std::uint64_t header_number(const HttpHeaders& headers, const std::string& name) {
  std::uint64_t value = 0;
  auto it = headers.find(name);
  if (it == headers.end() || !parse_number(it->second, value)) return 0;
  return value;
}

bool is_success(long status) { return status >= 200 && status < 300; }

std::size_t on_memory_data(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t length = size * count;
  if (!is_success(t->status)) {  // an error page: its beginning is enough for a message
    std::size_t room = kMaxErrorBody - std::min(kMaxErrorBody, t->body->size());
    t->body->append(data, std::min(length, room));
    if (length <= room) return length;
    t->error_body_capped = true;
    return 0;  // stops the transfer; request() treats it as complete
  }
  if (!t->length_checked) {
    t->length_checked = true;
    if (header_number(t->headers, "content-length") > t->max_body) {
      t->body_too_large = true;
      return 0;
    }
  }
  if (t->body->size() + length > t->max_body) {
    t->body_too_large = true;
    return 0;
  }
  t->body->append(data, length);
  return length;
}

// Retry-After as a wait: delta-seconds or an HTTP date; nullopt when absent or unreadable.
std::optional<std::chrono::milliseconds> retry_after(const HttpHeaders& headers) {
  auto it = headers.find("retry-after");
  if (it == headers.end()) return std::nullopt;
  std::uint64_t seconds = 0;
  if (parse_number(it->second, seconds)) {
    return std::chrono::milliseconds(std::min<std::uint64_t>(seconds, 24 * 3600) * 1000);
  }
  std::time_t when = curl_getdate(it->second.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  std::time_t now = std::time(nullptr);
  return std::chrono::milliseconds(when > now ? (when - now) * 1000 : 0);
}

bool has_header(const std::vector<std::pair<std::string, std::string>>& headers,
                std::string_view name) {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& header) {
    return header.first.size() == name.size() &&
           std::equal(name.begin(), name.end(), header.first.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) ==
                    std::tolower(static_cast<unsigned char>(b));
           });
  });
}

bool truncate_file(Transfer& t) {
  if (::ftruncate(t.fd, 0) != 0 || ::lseek(t.fd, 0, SEEK_SET) != 0) {
    t.io_errno = errno;
    return false;
  }
  t.file_size = 0;
  return true;
}

// Decides, once the final response's headers are in, whether its body goes into the file.
bool decide(Transfer& t) {
  t.decided = true;
  if (t.status == 206) {
    // "Content-Range: bytes START-END/TOTAL": it must continue exactly where the file ends.
    auto it = t.headers.find("content-range");
    std::string_view range = it == t.headers.end() ? std::string_view() : it->second;
    std::uint64_t start = 0;
    auto dash = range.find('-');
    auto slash = range.find('/');
    if (!range.starts_with("bytes ") || dash == std::string_view::npos ||
        !parse_number(range.substr(6, dash - 6), start) || start != t.file_size) {
      t.abort_reason = "the server answered with Content-Range '" + std::string(range) +
                       "' for a request from byte " + std::to_string(t.file_size) +
                       "; restarting from zero";
      truncate_file(t);
      return false;
    }
    if (slash != std::string_view::npos) parse_number(range.substr(slash + 1), t.total);
    t.writing_file = true;
  } else if (t.status == 200) {
    if (t.file_size > 0) {  // the server ignored Range: start over
      if (!truncate_file(t)) return false;
      t.restarted = true;
    }
    t.total = header_number(t.headers, "content-length");
    t.writing_file = true;
  } else {
    t.writing_file = false;
  }
  return true;
}

void report(Transfer& t, bool force) {
  if (t.progress == nullptr || !*t.progress) return;
  if (!force && t.file_size - t.last_report < kProgressStep) return;
  t.last_report = t.file_size;
  (*t.progress)(t.file_size, t.total);
}

std::size_t on_file_data(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t length = size * count;
  if (!t->decided && !decide(*t)) return 0;
  if (!t->writing_file) {
    t->error_body.append(data, std::min(length, kMaxErrorBody - t->error_body.size()));
    return length;
  }
  for (std::size_t done = 0; done < length;) {
    ssize_t n = ::write(t->fd, data + done, length - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      t->io_errno = n < 0 ? errno : EIO;
      return 0;
    }
    done += static_cast<std::size_t>(n);
  }
  t->file_size += length;
  report(*t, false);
  return length;
}

// "host:port" of a CURLOPT_RESOLVE entry "[+]host:port:addresses".
std::string resolve_key(std::string_view entry) {
  if (entry.starts_with('+')) entry.remove_prefix(1);
  auto host_end = entry.starts_with('[') ? entry.find(']') : 0;
  auto colon = entry.find(':', host_end == std::string_view::npos ? 0 : host_end);
  auto second = colon == std::string_view::npos ? colon : entry.find(':', colon + 1);
  return std::string(entry.substr(0, second));
}

}  // namespace

struct HttpClient::Impl {
  HttpOptions options;
  CURL* curl = nullptr;
  char error_buffer[CURL_ERROR_SIZE] = {};
  // "host:port" pinned by the previous request: libcurl keeps CURLOPT_RESOLVE entries in the
  // handle's DNS cache, so the next request removes those it does not pin again.
  std::vector<std::string> pinned;

  curl_slist* resolve_list(const std::vector<std::string>& entries) {
    curl_slist* list = nullptr;
    std::vector<std::string> keys;
    for (const auto& entry : entries) keys.push_back(resolve_key(entry));
    for (const auto& key : pinned) {
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        list = curl_slist_append(list, ("-" + key).c_str());
      }
    }
    for (const auto& entry : entries) list = curl_slist_append(list, entry.c_str());
    pinned = std::move(keys);
    return list;
  }

  // Resets the handle (keeping its connection cache) and sets what every request shares.
  curl_slist* prepare(const std::string& url, Transfer& t, const std::string& range,
                      const std::vector<std::pair<std::string, std::string>>& extra = {},
                      bool with_bearer = true) {
    curl_easy_reset(curl);
    error_buffer[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, options.max_redirects != 0 ? 1L : 0L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, options.max_redirects);
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85: the string forms replace the deprecated bitmasks
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_s);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, options.low_speed_limit_bytes);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, options.low_speed_time_s);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    if (!range.empty()) curl_easy_setopt(curl, CURLOPT_RANGE, range.c_str());
    curl_slist* headers = nullptr;
    if (with_bearer && !options.bearer_token.empty()) {
      // A custom Authorization header is only sent to the original host (scheme and port
      // included): the CDN a download redirects to never sees the token.
      headers =
          curl_slist_append(headers, ("Authorization: Bearer " + options.bearer_token).c_str());
    }
    for (const auto& [name, value] : extra) {
      // "Name;" is libcurl's spelling of a header with an empty value.
      std::string line = value.empty() ? name + ";" : name + ": " + value;
      headers = curl_slist_append(headers, line.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    return headers;
  }

  Error transport_error(CURLcode code, const std::string& url) const {
    std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    auto error_code = ErrorCode::kNetwork;
    if (code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL) {
      error_code = ErrorCode::kInvalidArgument;
    } else if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE ||
               code == CURLE_SSL_CERTPROBLEM) {
      error_code = ErrorCode::kFailedPrecondition;  // retrying will not fix a certificate
    }
    return make_error(error_code, url + ": " + detail);
  }
};

HttpClient::HttpClient(HttpOptions options) : impl_(std::make_unique<Impl>()) {
  ensure_curl_initialised();
  impl_->options = std::move(options);
  impl_->curl = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (impl_->curl != nullptr) curl_easy_cleanup(impl_->curl);
}

Result<HttpResponse> HttpClient::get(const std::string& url, std::size_t max_body_bytes) {
  HttpRequest request;
  request.url = url;
  request.max_body_bytes = max_body_bytes;
  return this->request(request);
}

Result<HttpResponse> HttpClient::request(const HttpRequest& request) {
  if (impl_->curl == nullptr) return make_error(ErrorCode::kInternal, "curl_easy_init failed");
  HttpResponse response;
  Transfer t;
  t.body = &response.body;
  t.max_body = request.max_body_bytes;
  bool sends_body = !request.body.empty() || request.method == "POST" || request.method == "PUT" ||
                    request.method == "PATCH";
  auto extra = request.headers;
  if (sends_body && !has_header(extra, "content-type")) {
    extra.emplace_back("Content-Type", "application/octet-stream");  // not curl's form encoding
  }
  if (request.sigv4) {
    if (!has_header(extra, "x-amz-content-sha256")) {
      extra.emplace_back("x-amz-content-sha256", Sha256::of(request.body));
    }
    if (!request.sigv4->session_token.empty()) {
      extra.emplace_back("x-amz-security-token", request.sigv4->session_token);
    }
  }
  curl_slist* headers = impl_->prepare(request.url, t, "", extra, !request.sigv4.has_value());
  CURL* curl = impl_->curl;
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_memory_data);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  if (impl_->options.timeout_ms > 0) {
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, impl_->options.timeout_ms);
  } else if (impl_->options.timeout_s > 0) {
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, impl_->options.timeout_s);
  }
  curl_slist* resolve = nullptr;
  if (!request.resolve.empty() || !impl_->pinned.empty()) {
    resolve = impl_->resolve_list(request.resolve);
    curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
  }
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (sends_body) {  // the body is sent from the caller's buffer, which outlives the transfer
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    if (request.method == "GET") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "GET");
  }
  std::string sigv4_provider;
  if (request.sigv4) {
    sigv4_provider = "aws:amz:" + request.sigv4->region + ":" + request.sigv4->service;
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4_provider.c_str());
    // Separate options: a ':' in either part cannot be mistaken for the separator.
    curl_easy_setopt(curl, CURLOPT_USERNAME, request.sigv4->access_key_id.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, request.sigv4->secret_access_key.c_str());
  }
  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_slist_free_all(resolve);
  if (t.body_too_large) {
    return make_error(ErrorCode::kResourceExhausted, request.url + ": response larger than " +
                                                         std::to_string(request.max_body_bytes) +
                                                         " bytes");
  }
  if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && t.error_body_capped)) {
    return impl_->transport_error(code, request.url);
  }
  char* effective_url = nullptr;
  curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective_url);
  response.effective_url = effective_url != nullptr ? effective_url : request.url;
  char* primary_ip = nullptr;
  curl_easy_getinfo(curl, CURLINFO_PRIMARY_IP, &primary_ip);
  if (primary_ip != nullptr) response.primary_ip = primary_ip;
  response.status = t.status;
  response.headers = std::move(t.headers);
  response.first_headers = std::move(t.first_headers);
  return response;
}

bool is_retryable_status(long status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

Result<HttpResponse> HttpClient::request_with_retries(const HttpRequest& request,
                                                      const RetryPolicy& policy) {
  thread_local std::mt19937 jitter(std::random_device{}());
  double backoff_ms = static_cast<double>(policy.initial_backoff.count());
  for (int attempt = 1;; ++attempt) {
    auto response = this->request(request);
    bool retry = response.ok() ? is_retryable_status(response->status)
                               : response.error().code == ErrorCode::kNetwork;
    if (!retry || attempt >= policy.max_attempts) return response;
    auto capped = std::min(static_cast<double>(policy.max_backoff.count()), backoff_ms);
    auto half = static_cast<long>(capped / 2);
    std::uniform_int_distribution<long> upper_half(half, static_cast<long>(capped));
    std::chrono::milliseconds wait(upper_half(jitter));
    if (response.ok()) {
      if (auto after = retry_after(response->headers))
        wait = std::min(*after, policy.max_retry_after);
    }
    std::this_thread::sleep_for(wait);
    backoff_ms = capped * policy.multiplier;
  }
}

Result<HttpResponse> HttpClient::download(const std::string& url,
                                          const std::filesystem::path& partial,
                                          const HttpProgressFn& progress) {
  if (impl_->curl == nullptr) return make_error(ErrorCode::kInternal, "curl_easy_init failed");
  Transfer t;
  t.fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  struct stat st {};
  if (t.fd < 0 || ::fstat(t.fd, &st) != 0 || ::lseek(t.fd, 0, SEEK_END) < 0) {
    int saved = errno;
    if (t.fd >= 0) ::close(t.fd);
    return make_error(ErrorCode::kIoError, partial.string() + ": " + std::strerror(saved));
  }
  t.file_size = static_cast<std::uint64_t>(st.st_size);
  t.progress = &progress;
  std::string range = t.file_size > 0 ? std::to_string(t.file_size) + "-" : "";
  curl_slist* headers = impl_->prepare(url, t, range);
  curl_easy_setopt(impl_->curl, CURLOPT_WRITEFUNCTION, on_file_data);
  curl_easy_setopt(impl_->curl, CURLOPT_WRITEDATA, &t);
  curl_slist* resolve = impl_->pinned.empty() ? nullptr : impl_->resolve_list({});
  if (resolve != nullptr) curl_easy_setopt(impl_->curl, CURLOPT_RESOLVE, resolve);
  CURLcode code = curl_easy_perform(impl_->curl);
  curl_slist_free_all(headers);
  curl_slist_free_all(resolve);
  if (code == CURLE_OK && !t.decided) decide(t);  // an empty body never reached on_file_data
  if (code == CURLE_OK && t.writing_file && t.io_errno == 0 && ::fsync(t.fd) != 0) {
    t.io_errno = errno;
  }
  ::close(t.fd);
  if (t.writing_file) report(t, true);
  if (t.io_errno != 0) {
    return make_error(ErrorCode::kIoError, partial.string() + ": " + std::strerror(t.io_errno));
  }
  if (!t.abort_reason.empty()) return make_error(ErrorCode::kNetwork, url + ": " + t.abort_reason);
  if (code != CURLE_OK) return impl_->transport_error(code, url);
  HttpResponse response;
  response.status = t.status;
  response.body = std::move(t.error_body);
  response.headers = std::move(t.headers);
  response.first_headers = std::move(t.first_headers);
  response.file_size = t.file_size;
  response.restarted = t.restarted;
  return response;
}

}  // namespace lookalike
