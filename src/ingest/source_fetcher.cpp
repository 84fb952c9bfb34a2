#include "ingest/source_fetcher.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

namespace lookalike::ingest {

namespace {

// "HTTP://x" → "http"; "" when the reference has no "scheme://".
std::string scheme_of(std::string_view reference) {
  auto colon = reference.find("://");
  if (colon == std::string_view::npos) return "";
  std::string scheme(reference.substr(0, colon));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return scheme;
}

std::string hex(std::uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[value & 15]);
    value >>= 4;
  } while (value != 0);
  return out;
}

std::string strip_quotes(std::string etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return etag;
}

Error too_large(const std::string& what, std::size_t max_bytes) {
  return make_error(ErrorCode::kResourceExhausted,
                    what + ": larger than the limit of " + std::to_string(max_bytes) + " bytes");
}

}  // namespace

SourceFetcher::SourceFetcher(SourceFetcherOptions options)
    : options_(std::move(options)), pool_(options_.http) {
  if (options_.s3) s3_ = std::make_unique<S3Client>(*options_.s3);
}

Result<FetchedObject> SourceFetcher::fetch(const std::string& reference, std::size_t max_bytes) {
  std::string scheme = scheme_of(reference);
  if (scheme == "http" || scheme == "https") return fetch_url(reference, max_bytes);
  if (scheme == "s3") return fetch_s3(reference, max_bytes);
  if (scheme.empty() && reference.starts_with('/')) return fetch_file(reference, max_bytes);
  if (scheme == "file") {
    return make_error(ErrorCode::kInvalidArgument,
                      "'" + reference + "': file:// URLs are not accepted; give the absolute path");
  }
  if (!scheme.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "'" + reference + "': the scheme '" + scheme +
                                                       "' is not supported (http, https, s3)");
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "'" + reference + "' is neither an absolute path nor an http(s) or s3 URL");
}

Result<FetchedObject> SourceFetcher::fetch_file(const std::string& path, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not block
  if (fd < 0) {
    int saved = errno;
    auto code = saved == ENOENT || saved == ENOTDIR ? ErrorCode::kNotFound : ErrorCode::kIoError;
    return make_error(code, path + ": " + std::strerror(saved));
  }
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return make_error(ErrorCode::kIoError, path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error(ErrorCode::kInvalidArgument, path + ": not a regular file");
  }
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) return too_large(path, max_bytes);
  FetchedObject object;
  // Room for one byte more than fstat() announced: a file that grew since is read on (the buffer
  // growing) until it ends or passes max_bytes, never further than max_bytes + 1.
  const std::size_t limit = max_bytes + 1;
  object.bytes.resize(static_cast<std::size_t>(st.st_size) + 1);
  std::size_t done = 0;
  while (done < limit) {
    if (done == object.bytes.size()) object.bytes.resize(std::min(limit, done * 2));
    ssize_t n = ::read(fd, object.bytes.data() + done, object.bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(ErrorCode::kIoError, path + ": " + std::strerror(errno));
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  if (done > max_bytes) return too_large(path, max_bytes);
  object.bytes.resize(done);
  auto mtime_ns = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000u +
                  static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
  object.etag = hex(mtime_ns) + "-" + hex(static_cast<std::uint64_t>(st.st_size));
  object.final_url = path;
  return object;
}

Result<FetchedObject> SourceFetcher::fetch_url(const std::string& url, std::size_t max_bytes) {
  HttpRequest request;
  request.url = url;
  request.max_body_bytes = max_bytes;
  auto client = pool_.acquire();
  auto response = client->request_with_retries(request, options_.retry);
  if (!response.ok()) return response.error();
  long status = response->status;
  if (status == 404 || status == 410) {
    return make_error(ErrorCode::kNotFound, url + ": HTTP " + std::to_string(status));
  }
  if (status < 200 || status >= 300) {
    return make_error(
        ErrorCode::kNetwork,
        url + ": HTTP " + std::to_string(status) +
            (is_retryable_status(status) ? " (still failing after the retries)" : ""));
  }
  FetchedObject object;
  object.bytes = std::move(response->body);
  auto etag = response->headers.find("etag");
  if (etag != response->headers.end()) object.etag = strip_quotes(etag->second);
  object.final_url = response->effective_url;
  return object;
}

Result<FetchedObject> SourceFetcher::fetch_s3(const std::string& uri, std::size_t max_bytes) {
  auto parsed = parse_s3_uri(uri);
  if (!parsed.ok()) return parsed.error();
  if (parsed->key.empty() || parsed->key.ends_with('/')) {
    return make_error(ErrorCode::kInvalidArgument, uri + ": names a prefix, not an object");
  }
  if (s3_ == nullptr) {
    return make_error(ErrorCode::kFailedPrecondition,
                      uri + ": S3 is not configured (credentials, region, endpoint)");
  }
  auto data = s3_->get_object(parsed->bucket, parsed->key, max_bytes);
  if (!data.ok()) return data.error();
  return FetchedObject{std::move(data->bytes), std::move(data->etag), uri};
}

}  // namespace lookalike::ingest
