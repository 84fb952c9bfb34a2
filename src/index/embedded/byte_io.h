// Little helpers to write and parse the embedded index's binary files (meta.bin): fixed-width
// native-endian values and length-prefixed strings, with bounds-checked reads.
// Not thread-safe; a ByteReader borrows the bytes it reads.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace lookalike::index::embedded {

class ByteWriter {
 public:
  template <typename T>
  void put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  template <typename T>
  void put_array(const std::vector<T>& values) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes_.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  }
  void put_string(std::string_view text) {
    put<std::uint32_t>(static_cast<std::uint32_t>(text.size()));
    bytes_.append(text);
  }
  const std::string& bytes() const { return bytes_; }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

// Every read returns false (and leaves the output alone) once the input is exhausted.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}

  template <typename T>
  bool get(T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (bytes_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  template <typename T>
  bool get_array(std::vector<T>& values, std::size_t count) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (count > (bytes_.size() - pos_) / sizeof(T)) return false;
    values.resize(count);
    if (count == 0) return true;  // memcpy from/to a null pointer is undefined even for 0 bytes
    std::memcpy(values.data(), bytes_.data() + pos_, count * sizeof(T));
    pos_ += count * sizeof(T);
    return true;
  }
  bool get_string(std::string& text, std::size_t max_size = 1 << 20) {
    std::uint32_t size = 0;
    if (!get(size) || size > max_size || bytes_.size() - pos_ < size) return false;
    text.assign(bytes_.data() + pos_, size);
    pos_ += size;
    return true;
  }
  std::size_t position() const { return pos_; }
  std::size_t remaining() const { return bytes_.size() - pos_; }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

}  // namespace lookalike::index::embedded
