#include "api/api_server.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include <httplib.h>

#include "api/api_keys.h"
#include "api/product_service.h"
#include "api/rate_limiter.h"
#include "api/router.h"
#include "api/routes/routes.h"
#include "core/structured_log.h"

namespace lookalike::api {

namespace {

using Clock = std::chrono::steady_clock;

std::string random_request_id() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(16, '0');
  auto bits = random();
  for (auto& c : id) {
    c = kHex[bits & 15];
    bits >>= 4;
  }
  return id;
}

// A caller's X-Request-Id is kept when it is short and plain (it ends up in logs).
std::string request_id_for(const httplib::Request& request) {
  auto given = request.get_header_value("X-Request-Id");
  if (!given.empty() && given.size() <= 64 && std::all_of(given.begin(), given.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      })) {
    return given;
  }
  return random_request_id();
}

std::string trim(std::string text) {
  auto first = text.find_first_not_of(" \t");
  auto last = text.find_last_not_of(" \t");
  return first == std::string::npos ? "" : text.substr(first, last - first + 1);
}

}  // namespace

class ApiServer::Impl {
 public:
  Impl(ApiConfig config, MetricsRegistry& metrics)
      : config_(std::move(config)),
        metrics_(metrics),
        keys_(config_.admin_api_key, config_.search_api_key),
        limiter_(config_.rate_limit, config_.rate_burst) {
    add_search_routes(router_);
    add_product_routes(router_);
    add_job_routes(router_);
    add_webhook_routes(router_);
    add_ops_routes(router_, metrics_);
    configure();
  }

  Status start() {
    if (!server_.bind_to_port(config_.host, config_.port)) {
      return make_error(ErrorCode::kIoError, "cannot listen on " + config_.host + ":" +
                                                 std::to_string(config_.port) +
                                                 " (in use, or not an address of this host)");
    }
    thread_ = std::thread([this] {
      server_.listen_after_bind();
      loop_ended_ = true;
    });
    // bind_to_port has the socket listening already; wait until the accept loop runs.
    while (!server_.is_running() && !loop_ended_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!server_.is_running()) {
      thread_.join();
      return make_error(ErrorCode::kIoError, "the HTTP server stopped as it started");
    }
    return ok_status();
  }

  void set_services(const ApiServices& services) {
    std::lock_guard lock(live_mutex_);
    live_ = std::make_shared<Live>(services);
  }

  void stop() {
    if (!thread_.joinable()) return;
    server_.stop();  // closes the listening socket; the pool finishes what it has, then joins
    thread_.join();
  }

  int port() const { return config_.port; }

 private:
  struct Live {
    explicit Live(const ApiServices& s) : services(s), products(services) {}
    ApiServices services;
    ProductService products;
  };

  void configure() {
    const auto threads = static_cast<std::size_t>(std::max(4, config_.http_threads));
    server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server_.set_payload_max_length(config_.max_upload_bytes);
    server_.set_read_timeout(config_.request_timeout_s, 0);
    server_.set_write_timeout(config_.request_timeout_s, 0);
    server_.set_keep_alive_timeout(5);
    server_.set_tcp_nodelay(true);
    // httplib's default is SO_REUSEPORT, which lets a second server bind the same port silently
    // (and share its traffic). SO_REUSEADDR alone allows a quick restart and nothing more.
    server_.set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    auto dispatch = [this](const httplib::Request& request, httplib::Response& response) {
      this->dispatch(request, response);
    };
    server_.Get(".*", dispatch);
    server_.Post(".*", httplib::Server::Handler(dispatch));
    server_.Put(".*", httplib::Server::Handler(dispatch));
    server_.Patch(".*", httplib::Server::Handler(dispatch));
    server_.Delete(".*", httplib::Server::Handler(dispatch));
    server_.Options(".*", dispatch);
    // Errors httplib answers itself (a body over the limit, a malformed request) get our shape.
    server_.set_error_handler([this](const httplib::Request& request, httplib::Response& response) {
      if (!response.body.empty()) return;
      if (!response.has_header("X-Request-Id")) {
        response.set_header("X-Request-Id", request_id_for(request));
      }
      HttpError error = make_http_error(response.status, "invalid_argument",
                                        "the HTTP request could not be read");
      if (response.status == 413) {
        // httplib parses form-encoded bodies itself and caps them at 8 KiB (curl -d sends that
        // type by default); say so rather than quoting the upload limit.
        const bool form = request.get_header_value("Content-Type")
                              .starts_with("application/x-www-form-urlencoded");
        error = make_http_error(413, "payload_too_large",
                                form ? "form-encoded bodies are limited to 8 KiB: send JSON with "
                                       "Content-Type: application/json"
                                     : "the request body is larger than " +
                                           std::to_string(config_.max_upload_bytes >> 20) + " MiB");
      }
      send_error(response, error);
      record(request, response, "unmatched", Clock::now());
    });
    server_.set_exception_handler(
        [this](const httplib::Request& request, httplib::Response& response, std::exception_ptr) {
          if (!response.has_header("X-Request-Id")) {
            response.set_header("X-Request-Id", request_id_for(request));
          }
          send_error(response, make_http_error(500, "internal", "unexpected error"));
          record(request, response, "unmatched", Clock::now());
        });
  }

  std::shared_ptr<Live> live() {
    std::lock_guard lock(live_mutex_);
    return live_;
  }

  std::string client_ip(const httplib::Request& request) const {
    if (config_.trust_proxy) {
      // nginx appends the address it saw: the last entry is the one hop we trust.
      auto forwarded = request.get_header_value("X-Forwarded-For");
      if (!forwarded.empty()) return trim(forwarded.substr(forwarded.rfind(',') + 1));
    }
    return request.remote_addr;
  }

  void apply_cors(const httplib::Request& request, httplib::Response& response) const {
    auto origin = request.get_header_value("Origin");
    if (origin.empty() || config_.cors_origins.empty()) return;
    bool any = std::find(config_.cors_origins.begin(), config_.cors_origins.end(), "*") !=
               config_.cors_origins.end();
    bool listed = std::find(config_.cors_origins.begin(), config_.cors_origins.end(), origin) !=
                  config_.cors_origins.end();
    if (!any && !listed) return;
    response.set_header("Access-Control-Allow-Origin", any ? "*" : origin);
    if (!any) response.set_header("Vary", "Origin");
    response.set_header("Access-Control-Expose-Headers", "X-Request-Id, Retry-After, Location");
    if (request.method == "OPTIONS") {
      response.set_header("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
      response.set_header("Access-Control-Allow-Headers",
                          "Content-Type, X-API-Key, Authorization, X-Request-Id");
      response.set_header("Access-Control-Max-Age", "600");
    }
  }

  void dispatch(const httplib::Request& request, httplib::Response& response) {
    const auto start = Clock::now();
    const std::string request_id = request_id_for(request);
    response.set_header("X-Request-Id", request_id);
    apply_cors(request, response);
    auto match = router_.match(request.method, request.path);
    if (request.method == "OPTIONS") {
      std::string allow = "OPTIONS";
      for (const auto& method : match.allowed_methods) allow += ", " + method;
      if (match.route != nullptr) allow += ", " + match.route->method;
      response.set_header("Allow", allow);
      send_no_content(response);
      return record(request, response, "options", start);
    }
    if (match.route == nullptr) {
      if (!match.allowed_methods.empty()) {
        std::string allow;
        for (const auto& method : match.allowed_methods)
          allow += (allow.empty() ? "" : ", ") + method;
        response.set_header("Allow", allow);
        send_error(response, make_http_error(
                                 405, "method_not_allowed",
                                 request.method + " is not allowed here (allowed: " + allow + ")"));
      } else {
        send_error(response,
                   make_http_error(404, "not_found",
                                   "no route for " + request.method + " " + request.path));
      }
      return record(request, response, "unmatched", start);
    }
    const Route& route = *match.route;
    const std::string key = ApiKeys::presented_key(request.get_header_value("X-API-Key"),
                                                   request.get_header_value("Authorization"));
    const std::string ip = client_ip(request);
    if (auto denied = keys_.check(route.access, key)) {
      if (denied->status == 401) response.set_header("WWW-Authenticate", "Bearer");
      send_error(response, *denied);
      return record(request, response, route.name, start);
    }
    const std::string client =
        key.empty() ? "ip:" + ip : "key:" + std::to_string(std::hash<std::string>{}(key));
    // Health checks, metrics, the page and images are never limited (load balancers and
    // browsers poll them); everything that reaches the model or the stores is.
    if (limiter_.enabled() && route.access != Access::kPublic) {
      auto decision = limiter_.allow(client);
      if (!decision.allowed) {
        response.set_header("Retry-After", std::to_string(decision.retry_after_s));
        send_error(response, make_http_error(429, "rate_limited",
                                             "too many requests; retry after " +
                                                 std::to_string(decision.retry_after_s) + " s"));
        return record(request, response, route.name, start);
      }
    }
    auto state = live();
    if (route.needs_services && !state) {
      response.set_header("Retry-After", "1");
      send_error(response,
                 make_http_error(503, "unavailable",
                                 "starting: the model is loading and the stores opening"));
      return record(request, response, route.name, start);
    }
    RouteContext ctx{request,
                     response,
                     std::move(match.params),
                     state ? &state->services : nullptr,
                     state ? &state->products : nullptr,
                     config_,
                     client};
    try {
      route.handler(ctx);
    } catch (const std::exception& e) {
      log_event("error", "handler_exception",
                {{"request_id", request_id}, {"route", route.name}, {"what", e.what()}});
      send_error(response,
                 make_http_error(500, "internal", "unexpected error (request " + request_id + ")"));
    }
    record(request, response, route.name, start);
  }

  void record(const httplib::Request& request, const httplib::Response& response,
              const std::string& route, Clock::time_point start) {
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const std::string status = std::to_string(response.status);
    metrics_
        .counter("lookalike_http_requests_total", "HTTP requests by route, method and status",
                 {{"route", route}, {"method", request.method}, {"status", status}})
        .inc();
    metrics_
        .histogram("lookalike_http_request_duration_seconds", "HTTP request latency by route",
                   latency_buckets_seconds(), {{"route", route}})
        .observe(seconds);
    log_event(response.status >= 500 ? "error" : "info", "request",
              {{"method", request.method},
               {"path", request.path},
               {"route", route},
               {"status", response.status},
               {"ms", seconds * 1000},
               {"request_id", response.get_header_value("X-Request-Id")},
               {"client", request.remote_addr}});
  }

  ApiConfig config_;
  MetricsRegistry& metrics_;
  ApiKeys keys_;
  RateLimiter limiter_;
  Router router_;
  httplib::Server server_;
  std::thread thread_;
  std::atomic<bool> loop_ended_{false};
  std::mutex live_mutex_;
  std::shared_ptr<Live> live_;
};

ApiServer::ApiServer(ApiConfig config, MetricsRegistry& metrics)
    : impl_(std::make_unique<Impl>(std::move(config), metrics)) {}

ApiServer::~ApiServer() { impl_->stop(); }

Status ApiServer::start() { return impl_->start(); }

void ApiServer::set_services(const ApiServices& services) { impl_->set_services(services); }

void ApiServer::stop() { impl_->stop(); }

int ApiServer::port() const { return impl_->port(); }

}  // namespace lookalike::api
