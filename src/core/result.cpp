#include "core/result.h"

namespace lookalike {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kIoError:
      return "io_error";
    case ErrorCode::kCorruptData:
      return "corrupt_data";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kOutOfRange:
      return "out_of_range";
    case ErrorCode::kResourceExhausted:
      return "resource_exhausted";
    case ErrorCode::kNetwork:
      return "network";
    case ErrorCode::kFailedPrecondition:
      return "failed_precondition";
    case ErrorCode::kAlreadyExists:
      return "already_exists";
    case ErrorCode::kCancelled:
      return "cancelled";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

std::string Error::to_string() const { return std::string(error_code_name(code)) + ": " + message; }

Error Error::with_context(std::string_view context) const {
  return Error{code, std::string(context) + ": " + message};
}

}  // namespace lookalike
