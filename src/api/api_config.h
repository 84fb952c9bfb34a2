// ApiConfig: how `lookalike serve` listens and guards its routes (keys, rate limits, CORS, upload
// and time limits). Plain values, filled in apps/ from flags, LOOKALIKE_* variables and .env.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace lookalike::api {

struct ApiConfig {
  std::string host = "127.0.0.1";
  int port = 8008;
  int http_threads = 64;                  // connections served at once (keep-alive holds one each)
  std::string admin_api_key;              // empty: every write is refused (403)
  std::string search_api_key;             // empty: search and product reads are open
  double rate_limit = 50;                 // requests per second per key or client IP; 0: no limit
  double rate_burst = 100;                // bucket size
  bool trust_proxy = false;               // client IP from X-Forwarded-For (behind nginx)
  std::vector<std::string> cors_origins;  // "*" or exact origins; empty: no CORS headers
  std::size_t max_upload_bytes = 20u << 20;
  int request_timeout_s = 30;  // socket read/write timeout
  std::string ingest_root;     // local sources of API ingest jobs must lie under it
  bool webhook_allow_private = false;
  std::string public_url;  // prefix for absolute image URLs; empty: root-relative
  std::string version = "0.1.0";
};

}  // namespace lookalike::api
