// The one place HTTP statuses are chosen: an Error (or an API-level code) becomes a status and the
// JSON body {"error": {"code", "message"}} every error response carries.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace lookalike::api {

struct HttpError {
  int status = 500;
  std::string code;  // "invalid_argument", "not_found", ... (docs/API.md)
  std::string message;
};

// For errors of the catalogue, index, queue and search core.
HttpError http_error_for(const Error& error);
// For errors of decoding an uploaded image: corrupt/truncated → 422 invalid_image, unsupported
// format → 415, over the pixel or byte limits → 413 image_too_large.
HttpError image_http_error_for(const Error& error);
HttpError make_http_error(int status, std::string_view code, std::string message);

std::string error_body(const HttpError& error);

}  // namespace lookalike::api
