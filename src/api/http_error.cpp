#include "api/http_error.h"

#include <nlohmann/json.hpp>

namespace lookalike::api {

HttpError make_http_error(int status, std::string_view code, std::string message) {
  return {status, std::string(code), std::move(message)};
}

HttpError http_error_for(const Error& error) {
  switch (error.code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange:
      return make_http_error(400, "invalid_argument", error.message);
    case ErrorCode::kNotFound:
      return make_http_error(404, "not_found", error.message);
    case ErrorCode::kAlreadyExists:
      return make_http_error(409, "already_exists", error.message);
    case ErrorCode::kFailedPrecondition:
      return make_http_error(409, "failed_precondition", error.message);
    case ErrorCode::kCorruptData:
      return make_http_error(422, "invalid_image", error.message);
    case ErrorCode::kUnsupported:
      return make_http_error(415, "unsupported_media_type", error.message);
    case ErrorCode::kResourceExhausted:
      return make_http_error(413, "payload_too_large", error.message);
    case ErrorCode::kNetwork:
    case ErrorCode::kIoError:
    case ErrorCode::kCancelled:
      return make_http_error(503, "unavailable", error.message);
    case ErrorCode::kInternal:
      break;
  }
  return make_http_error(500, "internal", error.message);
}

HttpError image_http_error_for(const Error& error) {
  switch (error.code) {
    case ErrorCode::kCorruptData:
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange:
      return make_http_error(422, "invalid_image", error.message);
    case ErrorCode::kUnsupported:
      return make_http_error(415, "unsupported_media_type", error.message);
    case ErrorCode::kResourceExhausted:
      return make_http_error(413, "image_too_large", error.message);
    default:
      return http_error_for(error);
  }
}

std::string error_body(const HttpError& error) {
  nlohmann::ordered_json body;
  body["error"] = {{"code", error.code}, {"message", error.message}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace lookalike::api
