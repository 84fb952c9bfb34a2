// IngestReport: one JSON line per notable item of a run (failed, duplicate, skipped source
// problems) written to --report as it happens, so a crashed run still leaves its report; plus the
// counters behind the summary. Thread-safety: all methods may be called concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace lookalike::ingest {

struct IngestCounters {
  std::int64_t products_seen = 0;
  std::int64_t products_ingested = 0;  // created or updated
  std::int64_t products_skipped = 0;   // already ingested and unchanged
  std::int64_t products_failed = 0;    // no usable image, bad row
  std::int64_t images_stored = 0;      // new or changed images written
  std::int64_t images_embedded = 0;    // images that went through the model
  std::int64_t images_skipped = 0;     // unchanged images
  std::int64_t images_duplicate = 0;   // same bytes as another image: stored and embedded once
  std::int64_t images_failed = 0;
  std::int64_t bytes_downloaded = 0;
};

class IngestReport {
 public:
  IngestReport() = default;
  ~IngestReport();
  IngestReport(const IngestReport&) = delete;
  IngestReport& operator=(const IngestReport&) = delete;

  // Opens (truncates) the JSON Lines report; without a call, entries are only counted.
  Status open(const std::filesystem::path& path);

  // {"status": status, "item": item, "external_id": ..., "reason": ..., ...extra}
  void add(const std::string& status, const std::string& item, const std::string& external_id,
           const std::string& reason, const nlohmann::json& extra = nlohmann::json::object());

  IngestCounters counters() const;
  // The first kKeptFailures "failed" entries as "item: reason" (for job records).
  std::vector<std::string> failures() const;
  static constexpr std::size_t kKeptFailures = 100;
  template <typename F>
  void update(F&& f) {
    std::lock_guard lock(mutex_);
    f(counters_);
  }

 private:
  mutable std::mutex mutex_;
  std::FILE* file_ = nullptr;
  IngestCounters counters_;
  std::vector<std::string> failures_;
};

}  // namespace lookalike::ingest
