#include "api/api_keys.h"

#include <openssl/crypto.h>

namespace lookalike::api {

namespace {

bool same_key(const std::string& expected, const std::string& given) {
  return !expected.empty() && expected.size() == given.size() &&
         CRYPTO_memcmp(expected.data(), given.data(), given.size()) == 0;
}

}  // namespace

ApiKeys::ApiKeys(std::string admin_key, std::string search_key)
    : admin_key_(std::move(admin_key)), search_key_(std::move(search_key)) {}

std::string ApiKeys::presented_key(const std::string& x_api_key, const std::string& authorization) {
  if (!x_api_key.empty()) return x_api_key;
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() > kBearer.size() &&
      std::equal(kBearer.begin(), kBearer.end(), authorization.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
      })) {
    return authorization.substr(kBearer.size());
  }
  return "";
}

std::optional<HttpError> ApiKeys::check(Access access, const std::string& key) const {
  switch (access) {
    case Access::kPublic:
      return std::nullopt;
    case Access::kSearch:
      if (search_key_.empty() || same_key(search_key_, key) || same_key(admin_key_, key)) {
        return std::nullopt;
      }
      return make_http_error(401, "unauthorized",
                             key.empty() ? "an API key is required (X-API-Key or Bearer)"
                                         : "the API key is not valid");
    case Access::kAdmin:
      if (admin_key_.empty()) {
        return make_http_error(403, "forbidden",
                               "writes are disabled: set LOOKALIKE_ADMIN_API_KEY to enable them");
      }
      if (same_key(admin_key_, key)) return std::nullopt;
      if (!key.empty() && same_key(search_key_, key)) {
        return make_http_error(403, "forbidden", "the search key cannot write; use the admin key");
      }
      return make_http_error(401, "unauthorized",
                             key.empty() ? "the admin API key is required (X-API-Key or Bearer)"
                                         : "the API key is not valid");
  }
  return make_http_error(500, "internal", "unknown access level");
}

}  // namespace lookalike::api
