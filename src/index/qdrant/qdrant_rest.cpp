#include "index/qdrant/qdrant_rest.h"

#include <utility>

namespace lookalike::index {

namespace {

// Qdrant's error text: status.error of its JSON body, else the body itself (auth failures are
// plain text), shortened.
std::string error_text(const HttpResponse& response) {
  auto parsed = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.contains("status") && parsed["status"].is_object() &&
      parsed["status"].contains("error") && parsed["status"]["error"].is_string()) {
    return parsed["status"]["error"].get<std::string>();
  }
  std::string text = response.body.substr(0, 300);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text.empty() ? "(no details)" : text;
}

ErrorCode code_for_status(long status) {
  switch (status) {
    case 400:
    case 422:
      return ErrorCode::kInvalidArgument;
    case 401:
    case 403:
      return ErrorCode::kFailedPrecondition;
    case 404:
      return ErrorCode::kNotFound;
    case 409:
      return ErrorCode::kAlreadyExists;
    default:
      return ErrorCode::kNetwork;
  }
}

HttpOptions http_options(const QdrantConnection& connection) {
  HttpOptions options;
  options.timeout_s = connection.timeout_s;
  options.connect_timeout_s = connection.connect_timeout_s;
  return options;
}

}  // namespace

QdrantRest::QdrantRest(QdrantConnection connection)
    : connection_(std::move(connection)), clients_(http_options(connection_)) {
  while (!connection_.url.empty() && connection_.url.back() == '/') connection_.url.pop_back();
}

QdrantRest::~QdrantRest() = default;

Result<nlohmann::json> QdrantRest::call(const std::string& method, const std::string& path,
                                        const nlohmann::json& body) const {
  HttpRequest request;
  request.method = method;
  request.url = connection_.url + path;
  if (!connection_.api_key.empty()) request.headers.emplace_back("api-key", connection_.api_key);
  if (!body.is_null()) {
    request.headers.emplace_back("Content-Type", "application/json");
    // Invalid UTF-8 in a string (a catalogue field) is replaced rather than thrown.
    request.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string what = "Qdrant at " + connection_.url + ": " + method + " " + path;
  auto response = clients_.acquire()->request_with_retries(request, connection_.retry);
  if (!response.ok()) {
    const Error& error = response.error();
    if (error.code == ErrorCode::kNetwork) {
      return make_error(ErrorCode::kNetwork, "cannot reach Qdrant at " + connection_.url +
                                                 " (is it running?): " + error.message);
    }
    return error.with_context(what);
  }
  long status = response->status;
  if (status < 200 || status >= 300) {
    std::string message = what + ": HTTP " + std::to_string(status) + ": " + error_text(*response);
    if (status == 401 || status == 403) message += " (check the Qdrant API key)";
    if (is_retryable_status(status)) {
      message += " (after " + std::to_string(connection_.retry.max_attempts) + " attempts)";
    }
    return make_error(code_for_status(status), message);
  }
  auto parsed = nlohmann::json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object() || !parsed.contains("result")) {
    return make_error(ErrorCode::kCorruptData,
                      what + ": the reply is not Qdrant's JSON: " + response->body.substr(0, 200));
  }
  return std::move(parsed["result"]);
}

}  // namespace lookalike::index
