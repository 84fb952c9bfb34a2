// Router: the route table of the API (method + path pattern → handler, access level, metric name)
// and what every handler gets. It answers the questions httplib's own routing cannot: which route
// a path belongs to (for 405 with Allow, metrics labels and access checks) before it runs.
// Internal to api/. Thread-safety: add() during setup only; match() concurrently afterwards.
#pragma once

#include <functional>
#include <regex>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "api/api_config.h"
#include "api/api_keys.h"
#include "api/api_services.h"
#include "api/http_error.h"
#include "api/product_service.h"

namespace lookalike::api {

struct RouteContext {
  const httplib::Request& request;
  httplib::Response& response;
  std::vector<std::string> params;     // the pattern's {captures}, in order (path already decoded)
  ApiServices* services = nullptr;     // null until ready (only for routes that do not need it)
  ProductService* products = nullptr;  // null until ready
  const ApiConfig& config;
  std::string client;  // the rate-limit identity: "key:<hash>" or "ip:<address>"
};

using RouteHandler = std::function<void(RouteContext&)>;

struct Route {
  std::string method;
  std::string name;  // "/api/v1/products/{id}": the metrics label
  std::regex pattern;
  Access access = Access::kPublic;
  bool needs_services = true;
  RouteHandler handler;
};

struct RouteMatch {
  const Route* route = nullptr;
  std::vector<std::string> params;
  std::vector<std::string> allowed_methods;  // when the path matched but the method did not
};

class Router {
 public:
  // `name` is the path with {param} placeholders; a trailing {path+} matches the rest of the path.
  void add(const std::string& method, const std::string& name, Access access, RouteHandler handler,
           bool needs_services = true);
  RouteMatch match(const std::string& method, const std::string& path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// Response helpers: JSON bodies with the right content type.
void send_json(httplib::Response& response, int status, const nlohmann::ordered_json& body);
// For bodies built as (unordered) nlohmann::json by other modules.
void send_unordered_json(httplib::Response& response, int status, const nlohmann::json& body);
void send_error(httplib::Response& response, const HttpError& error);
void send_no_content(httplib::Response& response);

}  // namespace lookalike::api
