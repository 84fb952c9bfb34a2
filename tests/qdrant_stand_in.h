// QdrantStandIn: an in-process imitation of Qdrant's REST API (cpp-httplib on 127.0.0.1, its own
// threads) so the Qdrant index backend can be tested without a server. It keeps collections in
// memory and answers with Qdrant's shapes, status codes and error bodies (see qdrant_stand_in.cpp
// for the API version followed and what is not emulated). Thread-safe: handlers and test hooks
// share one mutex.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace lookalike::testing {

// One request as the stand-in saw it. `endpoint` names the route, e.g.
// "PUT /collections/{collection_name}/points"; `path` is the concrete path with its query string.
struct QdrantSeenRequest {
  std::string endpoint;
  std::string path;
  std::string body;
  std::string api_key;  // the api-key header, if any
};

class QdrantStandIn {
 public:
  QdrantStandIn();
  ~QdrantStandIn();
  QdrantStandIn(const QdrantStandIn&) = delete;
  QdrantStandIn& operator=(const QdrantStandIn&) = delete;

  // "http://127.0.0.1:PORT"
  std::string url() const;

  // Requests without this key (api-key header or "Authorization: Bearer") are refused with 401,
  // as Qdrant does when service.api_key is set. Empty: no authentication.
  void require_api_key(std::string key);
  // The next `count` requests (any endpoint) answer `status` with a Qdrant error body.
  void fail_next(int count, int status = 503);

  // Requests seen per endpoint ("POST /collections/{collection_name}/points/search").
  int request_count(const std::string& endpoint) const;
  int total_requests() const;
  std::vector<QdrantSeenRequest> requests() const;
  void clear_requests();

  // Stops answering (connections are refused afterwards): "the server went down".
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lookalike::testing
