#include "clip/safetensors_file.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

namespace lookalike::clip {

namespace {

// A header larger than this is not a real model's: refuse it before parsing.
constexpr std::uint64_t kMaxHeaderBytes = 100ull << 20;

Error corrupt(const std::filesystem::path& path, const std::string& what) {
  return make_error(ErrorCode::kCorruptData, path.filename().string() + ": " + what);
}

}  // namespace

std::int64_t TensorInfo::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string TensorInfo::shape_string() const {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Result<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
  auto mapped = MappedFile::open(path);
  if (!mapped) return mapped.error();
  SafetensorsFile file;
  file.path_ = path;
  file.file_ = std::move(mapped).value();
  const std::size_t size = file.file_.size();
  if (size < 8)
    return corrupt(path, "file is " + std::to_string(size) + " bytes, too short for a header");

  std::uint64_t header_len = 0;
  std::memcpy(&header_len, file.file_.data(), 8);  // little-endian on every platform we build for
  if (header_len > kMaxHeaderBytes || header_len > size - 8) {
    return corrupt(path, "header length " + std::to_string(header_len) + " exceeds the file (" +
                             std::to_string(size) + " bytes): truncated or not safetensors");
  }
  const char* header_begin = reinterpret_cast<const char*>(file.file_.data() + 8);
  auto header = nlohmann::json::parse(header_begin, header_begin + header_len, nullptr, false);
  if (header.is_discarded() || !header.is_object())
    return corrupt(path, "header is not a JSON object");

  const std::size_t data_start = 8 + header_len;
  const std::size_t data_size = size - data_start;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const auto& entry = it.value();
    if (name == "__metadata__") {
      if (!entry.is_object()) return corrupt(path, "__metadata__ is not an object");
      for (auto m = entry.begin(); m != entry.end(); ++m) {
        if (m.value().is_string()) file.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets")) {
      return corrupt(path, "tensor '" + name + "': entry needs dtype, shape and data_offsets");
    }
    TensorInfo tensor;
    tensor.name = name;
    const auto& dtype = entry["dtype"];
    auto parsed = dtype.is_string() ? parse_dtype(dtype.get<std::string>()) : std::nullopt;
    if (!parsed) {
      return make_error(ErrorCode::kUnsupported, path.filename().string() + ": tensor '" + name +
                                                     "': unsupported dtype " + dtype.dump());
    }
    tensor.dtype = *parsed;
    const auto& shape = entry["shape"];
    if (!shape.is_array()) return corrupt(path, "tensor '" + name + "': shape is not an array");
    std::uint64_t numel = 1;
    for (const auto& d : shape) {
      if (!d.is_number_unsigned())
        return corrupt(path, "tensor '" + name + "': bad dimension " + d.dump());
      auto dim = d.get<std::uint64_t>();
      if (dim != 0 && numel > std::numeric_limits<std::uint64_t>::max() / 16 / dim) {
        return corrupt(path, "tensor '" + name + "': shape overflows");
      }
      numel *= dim;
      tensor.shape.push_back(static_cast<std::int64_t>(dim));
    }
    const auto& offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
      return corrupt(path, "tensor '" + name + "': data_offsets must be [begin, end]");
    }
    auto begin = offsets[0].get<std::uint64_t>();
    auto end = offsets[1].get<std::uint64_t>();
    if (begin > end || end > data_size) {
      return corrupt(path, "tensor '" + name + "': data [" + std::to_string(begin) + ", " +
                               std::to_string(end) + ") lies outside the " +
                               std::to_string(data_size) + "-byte data section (truncated file?)");
    }
    if (end - begin != numel * dtype_size(tensor.dtype)) {
      return corrupt(path, "tensor '" + name + "': " + std::to_string(end - begin) +
                               " bytes do not hold shape " + tensor.shape_string() + " of " +
                               std::string(dtype_name(tensor.dtype)));
    }
    tensor.offset = data_start + begin;
    tensor.byte_size = end - begin;
    file.index_[name] = file.tensors_.size();
    file.tensors_.push_back(std::move(tensor));
  }

  // Tensors must not overlap: a crafted file could otherwise alias one tensor's bytes as another's.
  std::vector<const TensorInfo*> sorted;
  for (const auto& t : file.tensors_) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i - 1]->offset + sorted[i - 1]->byte_size > sorted[i]->offset) {
      return corrupt(path,
                     "tensors '" + sorted[i - 1]->name + "' and '" + sorted[i]->name + "' overlap");
    }
  }
  return file;
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Result<const TensorInfo*> SafetensorsFile::require(const std::string& name,
                                                   const std::vector<std::int64_t>& shape) const {
  const TensorInfo* tensor = find(name);
  const std::string file = path_.filename().string();
  if (tensor == nullptr) {
    return make_error(ErrorCode::kNotFound, file + ": tensor '" + name + "' is missing");
  }
  if (!is_float(tensor->dtype)) {
    return make_error(ErrorCode::kUnsupported, file + ": tensor '" + name + "' has dtype " +
                                                   std::string(dtype_name(tensor->dtype)) +
                                                   ", expected F32, F16 or BF16");
  }
  if (tensor->shape != shape) {
    TensorInfo expected;
    expected.shape = shape;
    return make_error(ErrorCode::kCorruptData,
                      file + ": tensor '" + name + "' has shape " + tensor->shape_string() +
                          ", config.json implies " + expected.shape_string());
  }
  return tensor;
}

std::vector<float> SafetensorsFile::to_f32(const TensorInfo& tensor) const {
  std::vector<float> out(static_cast<std::size_t>(tensor.numel()));
  convert_to_f32(tensor.dtype, data(tensor), out.size(), out.data());
  return out;
}

}  // namespace lookalike::clip
