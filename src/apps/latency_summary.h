// Latency percentiles of a benchmark's samples, the one JSON shape every `lookalike bench`
// command prints: {"p50", "p90", "p99", "mean", "n"} in the samples' unit.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

namespace lookalike::apps {

// Empty samples give zeros.
nlohmann::ordered_json latency_summary(std::vector<double> samples);

}  // namespace lookalike::apps
