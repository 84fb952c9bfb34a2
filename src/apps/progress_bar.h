// ProgressBar: a one-line progress display on a terminal (rate and ETA), or a log line every few
// seconds when stderr is not a terminal. Used by `model pull` and, later, by ingestion.
// Thread-safety: one thread updates it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace lookalike::apps {

class ProgressBar {
 public:
  ProgressBar(std::string label, std::string unit);
  // done and total in `unit`s; total 0 when unknown.
  void update(std::uint64_t done, std::uint64_t total);
  // Ends the line (terminal) or prints a final log line.
  void finish();

 private:
  std::string label_;
  std::string unit_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
  std::uint64_t done_ = 0;
  std::uint64_t total_ = 0;
  void print(bool final_line);
};

}  // namespace lookalike::apps
