#include "api_client.h"

#include <thread>

namespace lookalike::testing {

std::string ApiAnswer::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

ApiAnswer ApiClient::send(const std::string& method, const std::string& path,
                          const std::string& body, const std::string& content_type,
                          const std::optional<std::string>& key) const {
  httplib::Client client("127.0.0.1", port_);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(30, 0);
  client.set_write_timeout(30, 0);
  httplib::Request request;
  request.method = method;
  request.path = path;
  const std::string& used_key = key ? *key : key_;
  if (!used_key.empty()) request.headers.emplace("X-API-Key", used_key);
  if (!body.empty()) request.headers.emplace("Content-Type", content_type);
  request.body = body;
  auto result = client.send(request);
  ApiAnswer answer;
  if (!result) return answer;
  answer.status = result->status;
  answer.raw = result->body;
  answer.headers = result->headers;
  answer.body = nlohmann::json::parse(result->body, nullptr, false);
  return answer;
}

ApiAnswer ApiClient::get(const std::string& path, const std::optional<std::string>& key) const {
  return send("GET", path, "", "", key);
}

ApiAnswer ApiClient::post(const std::string& path, const nlohmann::json& body,
                          const std::optional<std::string>& key) const {
  return send("POST", path, body.dump(), "application/json", key);
}

std::string ApiClient::best_match(const std::string& jpeg) const {
  auto answer = send("POST", "/api/v1/search/by-image?top_k=5", jpeg, "image/jpeg");
  if (answer.status != 200 || answer.body.is_discarded() || answer.body["results"].empty()) {
    return "";
  }
  return answer.body["results"][0]["product"]["external_id"];
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

}  // namespace lookalike::testing
