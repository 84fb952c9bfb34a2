#include "ingest/source/directory_source.h"

#include <algorithm>
#include <cctype>
#include <system_error>
#include <vector>

namespace lookalike::ingest {

namespace fs = std::filesystem;

bool is_image_file_name(const std::string& name) {
  if (!name.starts_with("image_")) return false;
  auto dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = name.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == "jpg" || ext == "jpeg" || ext == "png" || ext == "webp";
}

bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0;
  std::size_t j = 0;
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      std::size_t i_end = i;
      std::size_t j_end = j;
      while (i_end < a.size() && is_digit(a[i_end])) ++i_end;
      while (j_end < b.size() && is_digit(b[j_end])) ++j_end;
      // Compare by value: strip leading zeros, then by length, then lexicographically.
      std::size_t i_start = i;
      std::size_t j_start = j;
      while (i_start + 1 < i_end && a[i_start] == '0') ++i_start;
      while (j_start + 1 < j_end && b[j_start] == '0') ++j_start;
      std::string_view na(a.data() + i_start, i_end - i_start);
      std::string_view nb(b.data() + j_start, j_end - j_start);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = i_end;
      j = j_end;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

DirectorySource::DirectorySource(fs::path root, std::string id_prefix)
    : root_(std::move(root)), id_prefix_(std::move(id_prefix)) {}

std::string DirectorySource::description() const { return "directory " + root_.string(); }

Status DirectorySource::scan(const SourceVisitor& visitor) {
  std::error_code ec;
  std::vector<std::string> product_dirs;
  for (fs::directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    std::string name = it->path().filename().string();
    if (name.starts_with(".")) continue;  // hidden entries, our own temp files
    if (it->is_directory(type_ec)) {
      product_dirs.push_back(name);
    } else {
      visitor.on_problem({name, "", "not a product directory (expected SOURCE/{product_id}/)"});
    }
  }
  if (ec) {
    return make_error(
        ec == std::errc::no_such_file_or_directory ? ErrorCode::kNotFound : ErrorCode::kIoError,
        root_.string() + ": " + ec.message());
  }
  std::sort(product_dirs.begin(), product_dirs.end(), natural_less);
  for (const auto& product_id : product_dirs) {
    fs::path dir = root_ / product_id;
    std::vector<std::string> files;
    std::error_code list_ec;
    for (fs::directory_iterator it(dir, list_ec), end; !list_ec && it != end;
         it.increment(list_ec)) {
      std::string name = it->path().filename().string();
      if (is_image_file_name(name)) {
        files.push_back(name);
      } else if (!name.starts_with(".")) {
        visitor.on_problem({product_id + "/" + name, id_prefix_ + product_id,
                            "not an image_*.{jpg,jpeg,png,webp} file"});
      }
    }
    if (list_ec) {
      visitor.on_problem({product_id + "/", id_prefix_ + product_id, list_ec.message()});
      continue;
    }
    if (files.empty()) {
      visitor.on_problem({product_id + "/", id_prefix_ + product_id, "no image_* files"});
      continue;
    }
    std::sort(files.begin(), files.end(), natural_less);
    SourceProduct product;
    product.external_id = id_prefix_ + product_id;
    product.title = product.external_id;
    product.metadata = {{"source", "directory"}, {"original_id", product_id}};
    product.location = product_id + "/";
    for (const auto& file : files) {
      product.images.push_back({fs::absolute(dir / file).string(), "", -1});
    }
    if (!visitor.on_product(std::move(product))) break;
  }
  return ok_status();
}

}  // namespace lookalike::ingest
