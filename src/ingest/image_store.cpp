#include "ingest/image_store.h"

#include <system_error>

#include "core/file_util.h"
#include "core/sha256.h"

namespace lookalike::ingest {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxDirName = 120;

bool is_plain(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

ImageStore::ImageStore(fs::path root) : root_(std::move(root)) {}

std::string ImageStore::dir_name(std::string_view external_id) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : external_id) {
    if (is_plain(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (out.empty() || out == "." || out == "..") out = "%2E" + out;
  if (out.size() > kMaxDirName) {
    Sha256 hash;
    hash.update(external_id);
    out = out.substr(0, kMaxDirName - 17) + "~" + hash.hex_digest().substr(0, 16);
  }
  return out;
}

std::string ImageStore::extension_for(const std::string& format) {
  if (format == "jpeg") return "jpg";
  if (format == "heif") return "heic";
  return format.empty() ? "bin" : format;
}

std::string ImageStore::relative_path(const std::string& external_id, int position,
                                      const std::string& format) {
  return dir_name(external_id) + "/image_" + std::to_string(position) + "." + extension_for(format);
}

std::string ImageStore::url_for(const std::string& relative_path) {
  // dir_name() output is URL-safe except '%', which must itself be escaped in a URL.
  std::string url = "/images/";
  for (char c : relative_path) {
    if (c == '%') {
      url += "%25";
    } else {
      url += c;
    }
  }
  return url;
}

fs::path ImageStore::absolute(const std::string& relative_path) const {
  return root_ / relative_path;
}

Status ImageStore::write(const std::string& relative_path, std::string_view bytes) const {
  fs::path path = absolute(relative_path);
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return make_error(ErrorCode::kIoError, path.parent_path().string() + ": " + ec.message());
  return write_file_atomic(path, bytes);
}

Status ImageStore::link(const std::string& from, const std::string& to) const {
  fs::path source = absolute(from);
  fs::path target = absolute(to);
  fs::path temp = target;
  temp += ".link-tmp";
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec)
    return make_error(ErrorCode::kIoError, target.parent_path().string() + ": " + ec.message());
  fs::remove(temp, ec);
  fs::create_hard_link(source, temp, ec);
  if (ec) {
    ec.clear();
    fs::copy_file(source, temp, fs::copy_options::overwrite_existing, ec);
    if (ec) return make_error(ErrorCode::kIoError, source.string() + ": copy: " + ec.message());
  }
  fs::rename(temp, target, ec);
  if (ec) return make_error(ErrorCode::kIoError, target.string() + ": rename: " + ec.message());
  return ok_status();
}

std::int64_t ImageStore::file_size(const std::string& relative_path) const {
  std::error_code ec;
  auto size = fs::file_size(absolute(relative_path), ec);
  return ec ? -1 : static_cast<std::int64_t>(size);
}

Result<std::string> ImageStore::read(const std::string& relative_path) const {
  return read_file(absolute(relative_path));
}

bool ImageStore::exists(const std::string& relative_path) const {
  std::error_code ec;
  return fs::is_regular_file(absolute(relative_path), ec);
}

Status ImageStore::remove(const std::string& relative_path) const {
  fs::path path = absolute(relative_path);
  std::error_code ec;
  fs::remove(path, ec);
  if (ec) return make_error(ErrorCode::kIoError, path.string() + ": " + ec.message());
  fs::remove(path.parent_path(), ec);  // only succeeds when empty, which is what we want
  return ok_status();
}

}  // namespace lookalike::ingest
