#include "webhooks/signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <charconv>
#include <stdexcept>
#include <vector>

namespace lookalike {

namespace {

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    hex += kDigits[data[i] >> 4];
    hex += kDigits[data[i] & 15];
  }
  return hex;
}

std::string hmac_hex(std::string_view secret, std::int64_t unix_seconds, std::string_view body) {
  std::string message = std::to_string(unix_seconds);
  message += '.';
  message.append(body);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest,
           &length) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");  // only on allocation failure
  }
  return to_hex(digest, length);
}

}  // namespace

std::string sign_payload(std::string_view secret, std::int64_t unix_seconds,
                         std::string_view body) {
  return "t=" + std::to_string(unix_seconds) + ",v1=" + hmac_hex(secret, unix_seconds, body);
}

bool verify_signature(std::string_view header, std::string_view secret, std::string_view body,
                      std::int64_t now_unix, std::chrono::seconds tolerance) {
  std::int64_t timestamp = 0;
  bool has_timestamp = false;
  std::vector<std::string_view> signatures;
  while (!header.empty()) {
    auto comma = header.find(',');
    std::string_view part = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.starts_with("t=")) {
      auto digits = part.substr(2);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), timestamp);
      if (ec != std::errc() || end != digits.data() + digits.size() || timestamp < 0 ||
          has_timestamp) {
        return false;
      }
      has_timestamp = true;
    } else if (part.starts_with("v1=")) {
      signatures.push_back(part.substr(3));
    }
  }
  if (!has_timestamp || signatures.empty()) return false;
  std::int64_t age = now_unix - timestamp;
  if (age > tolerance.count() || -age > tolerance.count()) return false;
  std::string expected = hmac_hex(secret, timestamp, body);
  bool match = false;
  for (auto signature : signatures) {
    if (signature.size() == expected.size() &&
        CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0) {
      match = true;
    }
  }
  return match;
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed: the system has no entropy source");
  }
  return to_hex(raw.data(), raw.size());
}

std::string generate_secret() { return "whsec_" + random_hex(16); }

}  // namespace lookalike
