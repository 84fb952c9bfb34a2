// A fast 64-bit checksum (four independent multiply-xor lanes over 8-byte words) that lets the
// embedded index detect corrupted files at load. Not cryptographic.
// Not thread-safe: one Checksum per stream of bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "core/result.h"

namespace lookalike::index::embedded {

class Checksum {
 public:
  void update(const char* data, std::size_t size);
  std::uint64_t value() const;

 private:
  void mix_block(const char* block);  // 32 bytes

  std::uint64_t lanes_[4] = {0x9E3779B97F4A7C15ull, 0xC2B2AE3D27D4EB4Full, 0x165667B19E3779F9ull,
                             0x27D4EB2F165667C5ull};
  std::uint64_t length_ = 0;
  char pending_[32] = {};
  std::size_t pending_size_ = 0;
};

// Checksum of a whole file (read in 1 MiB pieces); errors name the file.
Result<std::uint64_t> checksum_file(const std::filesystem::path& path);

}  // namespace lookalike::index::embedded
