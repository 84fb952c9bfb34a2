// Result<T>: the value of an operation that can fail in an expected way (bad input, missing file,
// network error). Failures carry an ErrorCode and a message written for the person reading it.
// Exceptions and asserts are kept for bugs.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace lookalike {

enum class ErrorCode {
  kInvalidArgument,     // the caller passed something malformed
  kNotFound,            // a file, tensor, product... that does not exist
  kIoError,             // the operating system refused a read or write
  kCorruptData,         // bytes that do not parse as what they claim to be
  kUnsupported,         // valid input this build cannot handle (a codec, a dtype)
  kOutOfRange,          // a value outside its allowed range (image dimensions, sizes)
  kResourceExhausted,   // a limit was hit (decompression bomb, upload size)
  kNetwork,             // a remote server could not be reached or answered badly
  kFailedPrecondition,  // the system is not in a state to do this
  kAlreadyExists,
  kCancelled,
  kInternal,
};

std::string_view error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // "corrupt_data: model.safetensors: header is truncated"
  std::string to_string() const;
  // Returns a copy whose message is prefixed by `context: `.
  Error with_context(std::string_view context) const;
};

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value)
      : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(state_);
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> state_;
};

// Status is a Result with no value: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit on purpose

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() { return Status(); }

}  // namespace lookalike
