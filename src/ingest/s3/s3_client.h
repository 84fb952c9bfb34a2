// S3Client: the two S3 calls ingestion needs, ListObjectsV2 (every page of a prefix) and
// GetObject, signed with SigV4, retried with backoff, S3's XML errors turned into Results.
// Thread-safety: every method may be called from several threads at once (HttpClientPool).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_client.h"
#include "core/http_client_pool.h"
#include "core/result.h"

namespace lookalike::ingest {

struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials only
};

// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and (optional) AWS_SESSION_TOKEN from the environment;
// kFailedPrecondition when either of the first two is unset or empty.
Result<S3Credentials> s3_credentials_from_environment();

// "s3://bucket/key-or-prefix"; the key may be empty ("s3://bucket" and "s3://bucket/").
struct S3Uri {
  std::string bucket;
  std::string key;
};
// kInvalidArgument for another scheme, a missing bucket or a bucket name S3 would refuse.
Result<S3Uri> parse_s3_uri(std::string_view uri);

struct S3ClientOptions {
  // "http://127.0.0.1:4569" for a stand-in or S3-compatible store (path-style requests);
  // empty for AWS itself, https://s3.<region>.amazonaws.com (virtual-hosted-style requests, or
  // path-style for bucket names with dots, which would not match the TLS certificate).
  std::string endpoint;
  std::string region = "us-east-1";
  S3Credentials credentials;
  bool force_path_style = false;  // path-style on AWS too
  int max_keys = 1000;            // per ListObjectsV2 page (S3 answers at most 1000)
  RetryPolicy retry;
  HttpOptions http;
};

struct S3ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;           // without its quotes
  std::string last_modified;  // as S3 writes it: ISO 8601 in UTC, "2024-05-01T12:00:00.000Z"
};

struct S3ObjectData {
  std::string bytes;
  std::string etag;           // without its quotes
  bool not_modified = false;  // If-None-Match matched: bytes is empty
};

// Called once per ListObjectsV2 page, in key order; a non-ok Status stops the listing and is
// returned by list_objects().
using S3PageFn = std::function<Status(const std::vector<S3ObjectInfo>& page)>;

class S3Client {
 public:
  explicit S3Client(S3ClientOptions options);

  // Every object whose key starts with `prefix`, page by page (continuation tokens).
  // kNotFound: no such bucket; kFailedPrecondition: credentials refused, wrong region;
  // kNetwork: S3 unreachable or failing after the retries; kCorruptData: unreadable XML.
  Status list_objects(const std::string& bucket, const std::string& prefix,
                      const S3PageFn& on_page);

  // One object's bytes. kNotFound: no such key or bucket; kResourceExhausted: larger than
  // max_bytes (at most max_bytes and one network chunk are read); other errors as list_objects().
  // With `if_none_match` (an ETag, quoted or not) an unchanged object comes back not_modified.
  Result<S3ObjectData> get_object(const std::string& bucket, const std::string& key,
                                  std::size_t max_bytes, const std::string& if_none_match = "");

  // The URL of an object (or of the bucket for an empty key), keys encoded as SigV4 expects.
  std::string object_url(const std::string& bucket, const std::string& key) const;

 private:
  Result<HttpResponse> send(const std::string& url, std::size_t max_bytes,
                            std::vector<std::pair<std::string, std::string>> headers);

  S3ClientOptions options_;
  HttpClientPool pool_;
};

}  // namespace lookalike::ingest
