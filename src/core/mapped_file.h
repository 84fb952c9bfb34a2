// MappedFile: a read-only memory map of a whole file (model weights are read this way so that
// loading costs no copy and pages are shared between processes).
// Thread-safety: immutable after open; the mapping lives as long as the object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

#include "core/result.h"

namespace lookalike {

class MappedFile {
 public:
  static Result<MappedFile> open(const std::filesystem::path& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }

  // Tells the kernel the pages in [offset, offset + length) will not be read again, so they leave
  // this process's resident set (used after weights were copied into a packed layout).
  void release_pages(std::size_t offset, std::size_t length) const;

 private:
  MappedFile(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  void reset();

  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace lookalike
