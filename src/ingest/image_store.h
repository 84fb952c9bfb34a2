// ImageStore: the stored copies of product images under DATA/images, in the seed's layout
// `{product dir}/image_N.<ext>`. Files are written to a temporary name and renamed, so a crash
// never leaves a half-written image under a real name.
// Thread-safety: all methods may be called concurrently (distinct paths).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.h"

namespace lookalike::ingest {

class ImageStore {
 public:
  explicit ImageStore(std::filesystem::path root);  // DATA/images

  const std::filesystem::path& root() const { return root_; }

  // "<dir>/image_<position>.<ext>" for a product; <dir> is dir_name(external_id).
  static std::string relative_path(const std::string& external_id, int position,
                                   const std::string& format);
  // A safe, unique directory name for an external id: [A-Za-z0-9._-] kept, any other byte
  // %-encoded as "%XX" ('%' too), never "." or ".."; long ids are shortened with a hash suffix.
  static std::string dir_name(std::string_view external_id);
  // "jpeg" → "jpg", "png" → "png", ...
  static std::string extension_for(const std::string& format);
  // The URL the API serves a stored path under: "/images/" + path (segments %-encoded).
  static std::string url_for(const std::string& relative_path);

  Status write(const std::string& relative_path, std::string_view bytes) const;
  // Makes `to` a hard link to `from` (duplicates are stored once; replacing either name later
  // never changes the other), falling back to a copy where links are impossible.
  Status link(const std::string& from, const std::string& to) const;
  // Size of the stored file, or -1 when it is missing.
  std::int64_t file_size(const std::string& relative_path) const;
  Result<std::string> read(const std::string& relative_path) const;
  // Removes the file (missing is fine) and its directory if it became empty.
  Status remove(const std::string& relative_path) const;
  bool exists(const std::string& relative_path) const;
  std::filesystem::path absolute(const std::string& relative_path) const;

 private:
  std::filesystem::path root_;
};

}  // namespace lookalike::ingest
