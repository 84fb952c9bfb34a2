#include "api/router.h"

#include <algorithm>

namespace lookalike::api {

namespace {

// Literal text of a route name as a regex (".", "+", "(" ... match themselves).
std::string escaped(const std::string& text) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(text, special, R"(\$&)");
}

std::string pattern_for(const std::string& name) {
  static const std::regex placeholder(R"(\{([a-z_]+)(\+?)\})");
  std::string pattern;
  auto begin = std::sregex_iterator(name.begin(), name.end(), placeholder);
  std::size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    pattern += escaped(name.substr(last, static_cast<std::size_t>(it->position()) - last));
    pattern += (*it)[2].length() > 0 ? "(.+)" : "([^/]+)";
    last = static_cast<std::size_t>(it->position() + it->length());
  }
  pattern += escaped(name.substr(last));
  return pattern;
}

}  // namespace

void Router::add(const std::string& method, const std::string& name, Access access,
                 RouteHandler handler, bool needs_services) {
  routes_.push_back(
      {method, name, std::regex(pattern_for(name)), access, needs_services, std::move(handler)});
}

RouteMatch Router::match(const std::string& method, const std::string& path) const {
  RouteMatch result;
  // HEAD is answered by the GET route (httplib drops the body).
  const std::string wanted = method == "HEAD" ? "GET" : method;
  for (const auto& route : routes_) {
    std::smatch groups;
    if (!std::regex_match(path, groups, route.pattern)) continue;
    if (route.method != wanted) {
      auto& allowed = result.allowed_methods;
      if (std::find(allowed.begin(), allowed.end(), route.method) == allowed.end()) {
        allowed.push_back(route.method);
      }
      continue;
    }
    result.route = &route;
    // httplib has already %-decoded the path once; captures are taken as they are.
    for (std::size_t i = 1; i < groups.size(); ++i) result.params.push_back(groups[i].str());
    return result;
  }
  return result;
}

void send_json(httplib::Response& response, int status, const nlohmann::ordered_json& body) {
  response.status = status;
  response.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                       "application/json; charset=utf-8");
}

void send_unordered_json(httplib::Response& response, int status, const nlohmann::json& body) {
  response.status = status;
  response.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                       "application/json; charset=utf-8");
}

void send_error(httplib::Response& response, const HttpError& error) {
  response.status = error.status;
  response.set_content(error_body(error), "application/json; charset=utf-8");
}

void send_no_content(httplib::Response& response) {
  response.status = 204;
  response.body.clear();
}

}  // namespace lookalike::api
