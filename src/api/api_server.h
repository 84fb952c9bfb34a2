// ApiServer: `lookalike serve`'s HTTP layer. It listens at once (so liveness answers while the
// model loads), answers 503 on routes that need the services until set_services() is called, and
// guards every route with API keys, per-client rate limits, CORS, body size and time limits. Every
// response carries X-Request-Id; every error is {"error": {"code", "message"}}; every request is
// counted in the metrics and logged as one JSON line.
// Thread-safety: start/set_services/stop from one controlling thread; requests are served on the
// server's own pool. The metrics registry and the services are borrowed.
#pragma once

#include <memory>

#include "api/api_config.h"
#include "api/api_services.h"
#include "core/metrics_registry.h"
#include "core/result.h"

namespace lookalike::api {

class ApiServer {
 public:
  ApiServer(ApiConfig config, MetricsRegistry& metrics);
  ~ApiServer();  // stops if running
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds host:port (kIoError when it cannot, e.g. the port is taken) and serves in background.
  Status start();
  // The services are ready: routes that need them start answering. Called once.
  void set_services(const ApiServices& services);
  // Stops accepting connections and returns once in-flight requests have been answered.
  void stop();
  int port() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lookalike::api
