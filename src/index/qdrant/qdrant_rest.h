// QdrantRest: calls to Qdrant's REST API (JSON in, the reply's "result" out) with the API key,
// retries with backoff on 429/5xx/transport errors, and Qdrant's {"status":{"error":…}} bodies
// turned into Errors a person can act on.
// Thread-safe: concurrent calls each lease an HttpClient from an HttpClientPool (an HttpClient
// serves one thread at a time); idle clients keep their connections for reuse.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/http_client.h"
#include "core/http_client_pool.h"
#include "core/result.h"

namespace lookalike::index {

struct QdrantConnection {
  std::string url;      // "http://localhost:6333" (a trailing slash is ignored)
  std::string api_key;  // sent as the api-key header when not empty
  RetryPolicy retry;
  long timeout_s = 60;  // per request
  long connect_timeout_s = 10;
};

class QdrantRest {
 public:
  explicit QdrantRest(QdrantConnection connection);
  ~QdrantRest();
  QdrantRest(const QdrantRest&) = delete;
  QdrantRest& operator=(const QdrantRest&) = delete;

  // `method` on url + `path` ("/collections/x/points?wait=true") with `body` (null: none).
  // Returns the reply's "result". Errors: kNetwork (unreachable, 5xx/429 after the retries),
  // kNotFound (404), kInvalidArgument (400/422), kAlreadyExists (409), kFailedPrecondition
  // (401/403: the API key), kCorruptData (a reply that is not Qdrant's JSON).
  Result<nlohmann::json> call(const std::string& method, const std::string& path,
                              const nlohmann::json& body = nullptr) const;

  const std::string& url() const { return connection_.url; }

 private:
  QdrantConnection connection_;
  mutable HttpClientPool clients_;
};

}  // namespace lookalike::index
