// ApiKeys: who may call what. Writes need the admin key; search and product reads need the search
// key when one is configured (the admin key works everywhere). Keys are compared in constant time.
// Thread-safety: immutable after construction.
#pragma once

#include <optional>
#include <string>

#include "api/http_error.h"

namespace lookalike::api {

enum class Access {
  kPublic,  // health, metrics, docs, the web page, images
  kSearch,  // search and product reads
  kAdmin,   // every write, and job and webhook reads (they name sources and targets)
};

class ApiKeys {
 public:
  ApiKeys(std::string admin_key, std::string search_key);

  // The key a request presented: "X-API-Key: K" or "Authorization: Bearer K" (empty if none).
  static std::string presented_key(const std::string& x_api_key, const std::string& authorization);

  // nullopt when allowed; otherwise 401 (missing or wrong key) or 403 (writes disabled, or a
  // search key used for a write).
  std::optional<HttpError> check(Access access, const std::string& key) const;

 private:
  std::string admin_key_;
  std::string search_key_;
};

}  // namespace lookalike::api
