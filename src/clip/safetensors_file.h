// SafetensorsFile: a memory-mapped, fully validated `.safetensors` file (the Hugging Face weight
// format: 8-byte little-endian header length, a JSON header, then raw little-endian tensors).
// Every offset, dtype and shape is checked at open, so later reads cannot go out of bounds.
// Thread-safety: immutable after open.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "clip/dtype.h"
#include "core/mapped_file.h"
#include "core/result.h"

namespace lookalike::clip {

struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<std::int64_t> shape;
  std::size_t offset = 0;  // from the start of the file
  std::size_t byte_size = 0;

  std::int64_t numel() const;
  std::string shape_string() const;  // "[768, 3, 32, 32]"
};

class SafetensorsFile {
 public:
  static Result<SafetensorsFile> open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return path_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // nullptr when absent.
  const TensorInfo* find(const std::string& name) const;
  // The tensor, checked to have `shape` and a float dtype; errors name the file and the tensor.
  Result<const TensorInfo*> require(const std::string& name,
                                    const std::vector<std::int64_t>& shape) const;
  // Pointer to the tensor's first byte inside the mapping.
  const std::uint8_t* data(const TensorInfo& tensor) const { return file_.data() + tensor.offset; }
  // Copies a float tensor into float32.
  std::vector<float> to_f32(const TensorInfo& tensor) const;
  // Drops the tensor's pages from the resident set once they were copied elsewhere.
  void release(const TensorInfo& tensor) const {
    file_.release_pages(tensor.offset, tensor.byte_size);
  }

 private:
  std::filesystem::path path_;
  MappedFile file_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::size_t> index_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace lookalike::clip
