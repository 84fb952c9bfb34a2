// http_error_for / image_http_error_for (api/http_error.h): the status and code every ErrorCode
// becomes, and the {"error": {"code", "message"}} body of every error response.
#include "api/http_error.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lookalike::api {
namespace {

struct Mapping {
  ErrorCode code;
  int status;
  const char* http_code;
};

// Every ErrorCode (core/result.h); a new one must be added here and to the tables below.
const std::vector<ErrorCode> kAllCodes = {
    ErrorCode::kInvalidArgument,   ErrorCode::kNotFound,    ErrorCode::kIoError,
    ErrorCode::kCorruptData,       ErrorCode::kUnsupported, ErrorCode::kOutOfRange,
    ErrorCode::kResourceExhausted, ErrorCode::kNetwork,     ErrorCode::kFailedPrecondition,
    ErrorCode::kAlreadyExists,     ErrorCode::kCancelled,   ErrorCode::kInternal,
};

void expect_mapping(HttpError (*map)(const Error&), const std::vector<Mapping>& table) {
  ASSERT_EQ(table.size(), kAllCodes.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    ASSERT_EQ(table[i].code, kAllCodes[i]) << i;
    const std::string message = "message for " + std::string(error_code_name(table[i].code));
    HttpError got = map(make_error(table[i].code, message));
    EXPECT_EQ(got.status, table[i].status) << error_code_name(table[i].code);
    EXPECT_EQ(got.code, table[i].http_code) << error_code_name(table[i].code);
    EXPECT_EQ(got.message, message) << error_code_name(table[i].code);
  }
}

TEST(HttpErrorTest, HttpErrorForEveryErrorCode) {
  expect_mapping(http_error_for, {
                                     {ErrorCode::kInvalidArgument, 400, "invalid_argument"},
                                     {ErrorCode::kNotFound, 404, "not_found"},
                                     {ErrorCode::kIoError, 503, "unavailable"},
                                     {ErrorCode::kCorruptData, 422, "invalid_image"},
                                     {ErrorCode::kUnsupported, 415, "unsupported_media_type"},
                                     {ErrorCode::kOutOfRange, 400, "invalid_argument"},
                                     {ErrorCode::kResourceExhausted, 413, "payload_too_large"},
                                     {ErrorCode::kNetwork, 503, "unavailable"},
                                     {ErrorCode::kFailedPrecondition, 409, "failed_precondition"},
                                     {ErrorCode::kAlreadyExists, 409, "already_exists"},
                                     {ErrorCode::kCancelled, 503, "unavailable"},
                                     {ErrorCode::kInternal, 500, "internal"},
                                 });
}

TEST(HttpErrorTest, ImageHttpErrorForEveryErrorCode) {
  expect_mapping(image_http_error_for,
                 {
                     {ErrorCode::kInvalidArgument, 422, "invalid_image"},
                     {ErrorCode::kNotFound, 404, "not_found"},
                     {ErrorCode::kIoError, 503, "unavailable"},
                     {ErrorCode::kCorruptData, 422, "invalid_image"},
                     {ErrorCode::kUnsupported, 415, "unsupported_media_type"},
                     {ErrorCode::kOutOfRange, 422, "invalid_image"},
                     {ErrorCode::kResourceExhausted, 413, "image_too_large"},
                     {ErrorCode::kNetwork, 503, "unavailable"},
                     {ErrorCode::kFailedPrecondition, 409, "failed_precondition"},
                     {ErrorCode::kAlreadyExists, 409, "already_exists"},
                     {ErrorCode::kCancelled, 503, "unavailable"},
                     {ErrorCode::kInternal, 500, "internal"},
                 });
}

TEST(HttpErrorTest, MakeHttpErrorKeepsItsParts) {
  HttpError error = make_http_error(429, "rate_limited", "too many requests");
  EXPECT_EQ(error.status, 429);
  EXPECT_EQ(error.code, "rate_limited");
  EXPECT_EQ(error.message, "too many requests");
}

TEST(HttpErrorTest, ErrorBodyShape) {
  const std::string body = error_body(make_http_error(404, "not_found", "no such product: 7"));
  // Exactly this text: "error" first, "code" before "message", no whitespace.
  EXPECT_EQ(body, R"({"error":{"code":"not_found","message":"no such product: 7"}})");
  auto json = nlohmann::json::parse(body);
  ASSERT_TRUE(json.is_object());
  EXPECT_EQ(json.size(), 1u);
  ASSERT_TRUE(json["error"].is_object());
  EXPECT_EQ(json["error"].size(), 2u);
  EXPECT_EQ(json["error"]["code"], "not_found");
  EXPECT_EQ(json["error"]["message"], "no such product: 7");
}

TEST(HttpErrorTest, ErrorBodyEscapesJson) {
  const std::string message = "quote \" backslash \\ newline \n tab \t nul " + std::string(1, '\0');
  const std::string body = error_body(make_http_error(400, "invalid_argument", message));
  auto json = nlohmann::json::parse(body, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << body;
  EXPECT_EQ(json["error"]["message"], message);
  EXPECT_EQ(body.find('\n'), std::string::npos);
}

TEST(HttpErrorTest, InvalidUtf8InAMessageDoesNotThrow) {
  // Messages quote user input (file names, fields): invalid UTF-8 must still give a valid body.
  const std::string message = "bad name: \"\xff\xfe caf\xc3\" end";
  std::string body;
  ASSERT_NO_THROW(body = error_body(make_http_error(422, "invalid_image", message)));
  auto json = nlohmann::json::parse(body, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << body;
  EXPECT_EQ(json["error"]["code"], "invalid_image");
  const std::string got = json["error"]["message"];
  EXPECT_EQ(got.rfind("bad name: \"", 0), 0u) << got;
  EXPECT_NE(got.find("\xEF\xBF\xBD"), std::string::npos) << got;  // U+FFFD replacements
  EXPECT_NE(got.find(" end"), std::string::npos) << got;

  // A code with invalid UTF-8 too (never produced, but must not throw either).
  EXPECT_NO_THROW((void)error_body(make_http_error(500, "intern\xc0", "x")));
}

}  // namespace
}  // namespace lookalike::api
