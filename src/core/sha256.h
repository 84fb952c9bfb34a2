// Incremental SHA-256 (OpenSSL underneath), hex-encoded: used to verify downloads and to
// fingerprint images and configs.
// Thread-safety: one object per thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace lookalike {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::span<const std::uint8_t> bytes);
  void update(std::string_view text);
  // Lowercase hex digest; the object must not be updated afterwards.
  std::string hex_digest();

  static std::string of(std::string_view bytes);
  static Result<std::string> of_file(const std::filesystem::path& path);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace lookalike
