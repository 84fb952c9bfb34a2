#include "ingest/ingest_report.h"

#include <cerrno>
#include <cstring>

namespace lookalike::ingest {

IngestReport::~IngestReport() {
  if (file_ != nullptr) std::fclose(file_);
}

Status IngestReport::open(const std::filesystem::path& path) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) {
    return make_error(ErrorCode::kIoError, path.string() + ": " + std::strerror(errno));
  }
  std::lock_guard lock(mutex_);
  if (file_ != nullptr) std::fclose(file_);
  file_ = file;
  return ok_status();
}

void IngestReport::add(const std::string& status, const std::string& item,
                       const std::string& external_id, const std::string& reason,
                       const nlohmann::json& extra) {
  nlohmann::ordered_json line;
  line["status"] = status;
  line["item"] = item;
  if (!external_id.empty()) line["external_id"] = external_id;
  if (!reason.empty()) line["reason"] = reason;
  for (const auto& [key, value] : extra.items()) line[key] = value;
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard lock(mutex_);
  if (file_ != nullptr) {
    std::fwrite(text.data(), 1, text.size(), file_);
    std::fflush(file_);  // a killed run still leaves every line written so far
  }
  if (status == "failed" && failures_.size() < kKeptFailures) {
    failures_.push_back(item + (reason.empty() ? "" : ": " + reason));
  }
}

std::vector<std::string> IngestReport::failures() const {
  std::lock_guard lock(mutex_);
  return failures_;
}

IngestCounters IngestReport::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

}  // namespace lookalike::ingest
