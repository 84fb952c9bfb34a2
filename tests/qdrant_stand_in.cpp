// QdrantStandIn follows Qdrant's REST API as published in qdrant/qdrant
// docs/redoc/master/openapi.json (the v1.10-era "master" document: CollectionInfo,
// CreateCollection, CreateFieldIndex, PointsList/PointsBatch, PointsSelector, SearchRequest,
// SearchGroupsRequest, ScrollRequest, CountRequest,
// Filter/FieldCondition/Match/Range/HasIdCondition, ScoredPoint, Record, UpdateResult,
// GroupsResult, ErrorResponse) and, for status codes and error texts, the server sources:
// src/actix/helpers.rs (StorageError → HTTP status), src/actix/mod.rs (JSON body errors: 400
// "Format error in JSON body: …", 422 "Validation error in JSON body: …"),
// lib/storage/src/content_manager/errors.rs ("Wrong input: …", "Not found: …") and
// src/common/auth (401 with a plain-text body "Must provide an API key or an Authorization bearer
// token" / "Invalid API key or JWT"; Qdrant before 1.9 answered 403).
//
// Replies: {"result": …, "status": "ok", "time": seconds}; errors: {"status": {"error": "…"},
// "time": seconds} with 400 (bad input), 404 (missing collection or point), 409 (collection
// exists), 422 (validation), 401 (API key). `wait=false` updates answer status "acknowledged", else
// "completed" (the stand-in applies every update before answering either way).
//
// NOT emulated:
// - Endpoints other than those registered below (the Query API /points/query, recommend, discover,
//   batch search, set/delete payload, snapshots, aliases, cluster, "/", health checks): 404 with
//   an empty body (cpp-httplib's default), where Qdrant would answer them.
// - Collections other than one unnamed dense vector (named, sparse, multivectors): 400 "the Qdrant
//   stand-in does not emulate …". hnsw/optimizer/wal/quantization/sharding settings are accepted
//   and ignored; collection info reports fixed defaults, exact counts (Qdrant's points_count is
//   approximate) and the deprecated vectors_count.
// - Filter conditions nested, min_should, geo_*, values_count, match text/except and datetime
//   ranges: 400 "does not emulate". Keys may walk objects ("a.b") but not arrays ("a[]").
// - Search is always exact (no HNSW approximation; `params` ignored) and scores are computed in
//   double then rounded to float (Qdrant's SIMD float sums can differ in the last bits).
//   with_lookup, using, shard_key, consistency, ordering and timeout are ignored.
// - Payload indexes are recorded (payload_schema) but neither required nor type-checked by
//   filters (no strict mode); index parameters are ignored.
// - One read-write API key: no read-only key, JWT or unauthenticated health paths.
// - wait=false is applied before answering like wait=true (only the status differs).
// - Body errors keep Qdrant's status and "Format error in JSON body: " prefix, but the rest of the
//   text comes from nlohmann::json rather than serde.
// - UUID point ids only in the hyphenated form (Qdrant also accepts the simple and URN forms).
#include "qdrant_stand_in.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>

#include <nlohmann/json.hpp>

#include "qdrant_stand_in_store.h"

namespace lookalike::testing {

using nlohmann::json;
using qdrant_stand_in::ApiError;
using qdrant_stand_in::Collection;

namespace {

constexpr char kCollection[] = "/collections/{collection_name}";

void reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

std::string collection_missing(const std::string& name) {
  return "Not found: Collection `" + name + "` doesn't exist!";
}

}  // namespace

struct QdrantStandIn::Impl {
  using Handler = std::function<json(const httplib::Request&, const json& body)>;

  httplib::Server server;
  int port = 0;
  std::thread thread;
  bool stopped = false;

  mutable std::mutex mutex;
  std::map<std::string, Collection> collections;
  std::string api_key;
  int failures_left = 0;
  int failure_status = 503;
  std::vector<QdrantSeenRequest> seen;

  Collection& collection(const httplib::Request& req) {
    std::string name = req.matches[1];
    auto it = collections.find(name);
    if (it == collections.end()) throw ApiError{404, collection_missing(name)};
    return it->second;
  }

  // Registers a route: records it, injects failures, checks the API key, parses the JSON body and
  // wraps the handler's result (or ApiError) in Qdrant's envelope.
  void route(const std::string& method, const std::string& endpoint, Handler handler) {
    std::string pattern = endpoint;
    for (auto pos = pattern.find('{'); pos != std::string::npos; pos = pattern.find('{')) {
      pattern.replace(pos, pattern.find('}', pos) - pos + 1, "([^/]+)");
    }
    auto wrapped = [this, method, endpoint, handler](const httplib::Request& req,
                                                     httplib::Response& res) {
      auto started = std::chrono::steady_clock::now();
      auto seconds = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      };
      std::lock_guard lock(mutex);
      std::string path = req.path;
      if (!req.params.empty()) {
        std::string query;
        for (const auto& [key, value] : req.params)
          query += (query.empty() ? "?" : "&") + key + "=" + value;
        path += query;
      }
      seen.push_back({method + " " + endpoint, path, req.body, req.get_header_value("api-key")});
      if (failures_left > 0) {
        --failures_left;
        reply(res, failure_status,
              {{"status", {{"error", "Shard temporarily unavailable: injected failure"}}},
               {"time", seconds()}});
        return;
      }
      if (!api_key.empty()) {
        std::string key = req.get_header_value("api-key");
        std::string bearer = req.get_header_value("Authorization");
        if (key.empty() && bearer.starts_with("Bearer ")) key = bearer.substr(7);
        if (key != api_key) {
          res.status = 401;
          res.set_content(key.empty() ? "Must provide an API key or an Authorization bearer token"
                                      : "Invalid API key or JWT",
                          "text/plain; charset=utf-8");
          return;
        }
      }
      try {
        json body;
        if (method == "PUT" || method == "POST") {
          try {
            body = json::parse(req.body);
          } catch (const json::exception& e) {
            throw ApiError{400, std::string("Format error in JSON body: ") + e.what()};
          }
        }
        json result = handler(req, body);
        reply(res, 200, {{"result", result}, {"status", "ok"}, {"time", seconds()}});
      } catch (const ApiError& e) {
        reply(res, e.status, {{"status", {{"error", e.message}}}, {"time", seconds()}});
      } catch (const json::exception& e) {  // a field of the wrong JSON type
        reply(res, 400,
              {{"status", {{"error", std::string("Format error in JSON body: ") + e.what()}}},
               {"time", seconds()}});
      }
    };
    if (method == "GET") server.Get(pattern, wrapped);
    if (method == "PUT") server.Put(pattern, wrapped);
    if (method == "POST") server.Post(pattern, wrapped);
    if (method == "DELETE") server.Delete(pattern, wrapped);
  }

  bool wait(const httplib::Request& req) const { return req.get_param_value("wait") == "true"; }

  void register_routes() {
    std::string c = kCollection;
    route("GET", "/collections", [this](const httplib::Request&, const json&) {
      json list = json::array();
      for (const auto& [name, unused] : collections) list.push_back({{"name", name}});
      return json{{"collections", list}};
    });
    route("GET", c,
          [this](const httplib::Request& req, const json&) { return collection(req).info(); });
    route("PUT", c, [this](const httplib::Request& req, const json& body) {
      std::string name = req.matches[1];
      if (collections.contains(name)) {
        throw ApiError{409, "Wrong input: Collection `" + name + "` already exists!"};
      }
      collections.emplace(name, Collection::create(body));
      return json(true);
    });
    route("DELETE", c, [this](const httplib::Request& req, const json&) {
      return json(collections.erase(std::string(req.matches[1])) > 0);
    });
    route("PUT", c + "/index", [this](const httplib::Request& req, const json& body) {
      return collection(req).create_index(body, wait(req));
    });
    route("PUT", c + "/points", [this](const httplib::Request& req, const json& body) {
      return collection(req).upsert(body, wait(req));
    });
    route("POST", c + "/points/delete", [this](const httplib::Request& req, const json& body) {
      return collection(req).remove(body, wait(req));
    });
    route("POST", c + "/points/search", [this](const httplib::Request& req, const json& body) {
      return collection(req).search(body);
    });
    route("POST", c + "/points/search/groups",
          [this](const httplib::Request& req, const json& body) {
            return collection(req).search_groups(body);
          });
    route("POST", c + "/points/scroll", [this](const httplib::Request& req, const json& body) {
      return collection(req).scroll(body);
    });
    route("POST", c + "/points/count", [this](const httplib::Request& req, const json& body) {
      return collection(req).count(body);
    });
    route("GET", c + "/points/{id}", [this](const httplib::Request& req, const json&) {
      return collection(req).get_point(req.matches[2]);
    });
  }
};

QdrantStandIn::QdrantStandIn() : impl_(std::make_unique<Impl>()) {
  impl_->server.set_keep_alive_timeout(1);
  impl_->server.set_tcp_nodelay(true);  // no 40 ms Nagle stalls between header and body writes
  impl_->register_routes();
  impl_->port = impl_->server.bind_to_any_port("127.0.0.1");
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  for (int i = 0; i < 5000 && !impl_->server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

QdrantStandIn::~QdrantStandIn() { stop(); }

std::string QdrantStandIn::url() const { return "http://127.0.0.1:" + std::to_string(impl_->port); }

void QdrantStandIn::require_api_key(std::string key) {
  std::lock_guard lock(impl_->mutex);
  impl_->api_key = std::move(key);
}

void QdrantStandIn::fail_next(int count, int status) {
  std::lock_guard lock(impl_->mutex);
  impl_->failures_left = count;
  impl_->failure_status = status;
}

int QdrantStandIn::request_count(const std::string& endpoint) const {
  std::lock_guard lock(impl_->mutex);
  return static_cast<int>(std::count_if(impl_->seen.begin(), impl_->seen.end(),
                                        [&](const auto& r) { return r.endpoint == endpoint; }));
}

int QdrantStandIn::total_requests() const {
  std::lock_guard lock(impl_->mutex);
  return static_cast<int>(impl_->seen.size());
}

std::vector<QdrantSeenRequest> QdrantStandIn::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->seen;
}

void QdrantStandIn::clear_requests() {
  std::lock_guard lock(impl_->mutex);
  impl_->seen.clear();
}

void QdrantStandIn::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->server.stop();
  impl_->thread.join();
}

}  // namespace lookalike::testing
