// SourceFetcher: the bytes of one product image, wherever its reference points: an absolute local
// path, an http(s) URL (redirects followed) or s3://bucket/key. Size-capped, retried when the
// failure is transient. Thread-safety: fetch() may be called from several threads at once.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "core/http_client.h"
#include "core/http_client_pool.h"
#include "core/result.h"
#include "ingest/s3/s3_client.h"

namespace lookalike::ingest {

struct FetchedObject {
  std::string bytes;
  std::string etag;       // HTTP ETag or S3 ETag without quotes; for files "<mtime>-<size>" (hex)
  std::string final_url;  // the URL after redirects; the path for files; s3://bucket/key for S3
};

struct SourceFetcherOptions {
  // A whole-transfer limit: a server that trickles an image must not hold a worker for long.
  HttpOptions http{.timeout_s = 60};
  RetryPolicy retry;
  // Needed for s3:// references (credentials: s3_credentials_from_environment()).
  std::optional<S3ClientOptions> s3;
};

class SourceFetcher {
 public:
  explicit SourceFetcher(SourceFetcherOptions options);

  // At most max_bytes are accepted (kResourceExhausted beyond, having read no more than
  // max_bytes and one network chunk). Errors: kInvalidArgument (a relative path, file:// or any
  // other scheme, a path that is not a regular file), kNotFound (missing file, HTTP 404/410,
  // NoSuchKey/NoSuchBucket), kNetwork (unreachable, or an HTTP error status after the retries;
  // the status is in the message), kFailedPrecondition (S3 refused the credentials, or s3://
  // without S3 options), kIoError (a local read failed).
  Result<FetchedObject> fetch(const std::string& reference, std::size_t max_bytes);

 private:
  Result<FetchedObject> fetch_file(const std::string& path, std::size_t max_bytes);
  Result<FetchedObject> fetch_url(const std::string& url, std::size_t max_bytes);
  Result<FetchedObject> fetch_s3(const std::string& uri, std::size_t max_bytes);

  SourceFetcherOptions options_;
  HttpClientPool pool_;
  std::unique_ptr<S3Client> s3_;
};

}  // namespace lookalike::ingest
