#include "index/embedded/checksum.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

namespace lookalike::index::embedded {

namespace {

constexpr std::uint64_t kPrime = 0x9FB21C651E98DF25ull;

std::uint64_t mix(std::uint64_t lane, std::uint64_t word) {
  lane ^= word;
  lane *= kPrime;
  return lane ^ (lane >> 29);
}

}  // namespace

void Checksum::mix_block(const char* block) {
  std::uint64_t words[4];
  std::memcpy(words, block, sizeof(words));
  for (int i = 0; i < 4; ++i) lanes_[i] = mix(lanes_[i], words[i]);
}

void Checksum::update(const char* data, std::size_t size) {
  length_ += size;
  if (pending_size_ > 0) {
    const std::size_t take = std::min(size, sizeof(pending_) - pending_size_);
    std::memcpy(pending_ + pending_size_, data, take);
    pending_size_ += take;
    data += take;
    size -= take;
    if (pending_size_ < sizeof(pending_)) return;
    mix_block(pending_);
    pending_size_ = 0;
  }
  while (size >= sizeof(pending_)) {
    mix_block(data);
    data += sizeof(pending_);
    size -= sizeof(pending_);
  }
  std::memcpy(pending_, data, size);
  pending_size_ = size;
}

std::uint64_t Checksum::value() const {
  std::uint64_t h = length_ * kPrime;
  for (std::uint64_t lane : lanes_) h = mix(h, lane);
  for (std::size_t i = 0; i < pending_size_; ++i) {
    h = mix(h, static_cast<unsigned char>(pending_[i]) + (static_cast<std::uint64_t>(i) << 8));
  }
  return h;
}

Result<std::uint64_t> checksum_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(ErrorCode::kIoError,
                      path.string() + ": cannot open: " + std::strerror(errno));
  }
  Checksum checksum;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    checksum.update(buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return make_error(ErrorCode::kIoError, path.string() + ": read failed");
  return checksum.value();
}

}  // namespace lookalike::index::embedded
