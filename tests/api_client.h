// A small client for black-box tests of `lookalike serve`: JSON in and out, an API key by default,
// and `eventually` for polling what the server does in the background.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace lookalike::testing {

struct ApiAnswer {
  int status = 0;       // 0: no answer
  nlohmann::json body;  // discarded when not JSON
  std::string raw;
  httplib::Headers headers;
  std::string header(const std::string& name) const;
};

class ApiClient {
 public:
  ApiClient(int port, std::string key) : port_(port), key_(std::move(key)) {}

  // `key` replaces the default key ("" sends none).
  ApiAnswer send(const std::string& method, const std::string& path, const std::string& body = "",
                 const std::string& content_type = "application/json",
                 const std::optional<std::string>& key = std::nullopt) const;
  ApiAnswer get(const std::string& path,
                const std::optional<std::string>& key = std::nullopt) const;
  ApiAnswer post(const std::string& path, const nlohmann::json& body,
                 const std::optional<std::string>& key = std::nullopt) const;
  // The first external id of a by-image search with `jpeg`, "" when nothing was found.
  std::string best_match(const std::string& jpeg) const;

 private:
  int port_;
  std::string key_;
};

// Polls `condition` every 50 ms until it holds or `timeout` passes; true when it held.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace lookalike::testing
