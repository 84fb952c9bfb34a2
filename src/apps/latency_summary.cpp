#include "apps/latency_summary.h"

#include <algorithm>

namespace lookalike::apps {

nlohmann::ordered_json latency_summary(std::vector<double> samples) {
  if (samples.empty()) return {{"p50", 0}, {"p90", 0}, {"p99", 0}, {"mean", 0}, {"n", 0}};
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    return samples[std::min(samples.size() - 1, static_cast<std::size_t>(q * samples.size()))];
  };
  double total = 0;
  for (double s : samples) total += s;
  return {{"p50", at(0.50)},
          {"p90", at(0.90)},
          {"p99", at(0.99)},
          {"mean", total / static_cast<double>(samples.size())},
          {"n", samples.size()}};
}

}  // namespace lookalike::apps
