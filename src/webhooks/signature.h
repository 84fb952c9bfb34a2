// Webhook signatures: "X-Lookalike-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
// "<t>.<body>")>" (OpenSSL HMAC), checked by receivers (and our tests) with verify_signature.
// Thread-safety: free functions without shared state.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lookalike {

// "t=<unix_seconds>,v1=<64 lowercase hex>".
std::string sign_payload(std::string_view secret, std::int64_t unix_seconds, std::string_view body);

// True when `header` carries a timestamp within `tolerance` of `now_unix` (either side) and a v1
// signature of `body` under `secret` (compared in constant time). Several v1 entries are allowed
// (any may match); anything malformed is false.
bool verify_signature(std::string_view header, std::string_view secret, std::string_view body,
                      std::int64_t now_unix,
                      std::chrono::seconds tolerance = std::chrono::seconds(300));

// "whsec_" + 32 lowercase hex characters from RAND_bytes.
std::string generate_secret();

// 2 * bytes lowercase hex characters from RAND_bytes (ids of webhooks, events, deliveries).
std::string random_hex(std::size_t bytes);

}  // namespace lookalike
