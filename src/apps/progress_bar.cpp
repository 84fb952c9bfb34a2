#include "apps/progress_bar.h"

#include <algorithm>

#include <unistd.h>

#include <cstdio>

namespace lookalike::apps {

namespace {

std::string human(double value, const std::string& unit) {
  if (unit != "B") return std::to_string(static_cast<std::uint64_t>(value)) + " " + unit;
  const char* units[] = {"B", "KiB", "MiB", "GiB"};
  int i = 0;
  while (value >= 1024 && i < 3) {
    value /= 1024;
    ++i;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1f %s", value, units[i]);
  return buffer;
}

}  // namespace

ProgressBar::ProgressBar(std::string label, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      terminal_(::isatty(2) != 0),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

void ProgressBar::update(std::uint64_t done, std::uint64_t total) {
  done_ = done;
  // A total that falls behind (items found while counting) must not draw a bar past its end.
  total_ = total == 0 ? 0 : std::max(total, done);
  const auto now = std::chrono::steady_clock::now();
  const auto interval =
      terminal_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
  if (now - last_print_ >= interval) {
    last_print_ = now;
    print(false);
  }
}

void ProgressBar::finish() { print(true); }

void ProgressBar::print(bool final_line) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0.0;
  std::string line = label_ + " " + human(static_cast<double>(done_), unit_);
  if (total_ > 0) {
    const double fraction = static_cast<double>(done_) / static_cast<double>(total_);
    const int width = 30;
    const int filled = static_cast<int>(fraction * width);
    line.append(" / ").append(human(static_cast<double>(total_), unit_)).append(" [");
    line.append(static_cast<std::size_t>(filled), '#')
        .append(static_cast<std::size_t>(width - filled), '.');
    line.append("] ").append(std::to_string(static_cast<int>(fraction * 100))).append("%");
    if (rate > 0 && !final_line) {
      line.append(" ETA ")
          .append(std::to_string(static_cast<int>(static_cast<double>(total_ - done_) / rate)))
          .append("s");
    }
  }
  line.append(" ").append(human(rate, unit_)).append("/s");
  if (terminal_) {
    std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), final_line ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

}  // namespace lookalike::apps
