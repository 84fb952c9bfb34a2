#include "core/metrics_registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>

namespace lookalike {

namespace {

enum MetricType { kCounter, kGauge, kHistogram };

const char* type_name(int type) {
  switch (type) {
    case kCounter:
      return "counter";
    case kGauge:
      return "gauge";
    default:
      return "histogram";
  }
}

bool is_name_start(char c, bool colon_ok) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
}

bool is_valid_name(const std::string& name, bool colon_ok) {
  if (name.empty() || !is_name_start(name[0], colon_ok)) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return is_name_start(c, colon_ok) || (c >= '0' && c <= '9'); });
}

// Prometheus float syntax: the shortest round-trip decimal, +Inf, -Inf or NaN.
std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
  return std::string(buffer, ec == std::errc() ? end : buffer);
}

// HELP text escapes backslash and newline; label values also escape the double quote.
std::string escape(const std::string& text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

// `a="x",b="y"` (no braces), validated.
std::string render_labels(const std::string& metric, const MetricLabels& labels, int type) {
  std::set<std::string> seen;
  std::string out;
  for (const auto& [name, value] : labels) {
    if (!is_valid_name(name, false) || name.starts_with("__")) {
      throw std::logic_error("metric " + metric + ": invalid label name '" + name + "'");
    }
    if (type == kHistogram && name == "le") {
      throw std::logic_error("metric " + metric + ": a histogram cannot have a label 'le'");
    }
    if (!seen.insert(name).second) {
      throw std::logic_error("metric " + metric + ": label '" + name + "' given twice");
    }
    if (!out.empty()) out += ',';
    out += name + "=\"" + escape(value, true) + "\"";
  }
  return out;
}

std::string braced(const std::string& labels) {
  return labels.empty() ? std::string() : "{" + labels + "}";
}

}  // namespace

void Counter::inc(double v) {
  if (v < 0) throw std::logic_error("Counter::inc: a counter only goes up");
  value_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      counts_(new std::atomic<std::uint64_t>[upper_bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::observe(double v) {
  std::size_t bucket = upper_bounds_.size();  // +Inf, also where NaN goes
  if (!std::isnan(v)) {
    bucket = static_cast<std::size_t>(
        std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), v) - upper_bounds_.begin());
  }
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulative_counts() const {
  std::vector<std::uint64_t> out(upper_bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    out[i] = running;
  }
  return out;
}

std::uint64_t Histogram::count() const { return cumulative_counts().back(); }

struct MetricsRegistry::Family {
  struct Series {
    std::string labels;  // rendered, without braces
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::shared_ptr<const std::function<double()>> read;
  };

  std::string name;
  std::string help;
  int type = kCounter;
  std::vector<double> buckets;
  bool has_buckets = false;
  std::vector<std::unique_ptr<Series>> series;  // creation order
  std::map<std::string, Series*> by_labels;

  Series& get(const MetricLabels& labels) {
    std::string key = render_labels(name, labels, type);
    auto it = by_labels.find(key);
    if (it != by_labels.end()) return *it->second;
    series.push_back(std::make_unique<Series>());
    series.back()->labels = key;
    by_labels.emplace(std::move(key), series.back().get());
    return *series.back();
  }
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Family& MetricsRegistry::family(const std::string& name, const std::string& help,
                                                 int type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    if (!is_valid_name(name, true)) throw std::logic_error("invalid metric name '" + name + "'");
    auto created = std::make_unique<Family>();
    created->name = name;
    created->help = help;
    created->type = type;
    it = families_.emplace(name, std::move(created)).first;
  } else if (it->second->type != type) {
    throw std::logic_error("metric " + name + " is a " + type_name(it->second->type) + ", not a " +
                           type_name(type));
  }
  return *it->second;
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                  const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  auto& series = family(name, help, kCounter).get(labels);
  if (!series.counter) series.counter = std::make_unique<Counter>();
  return *series.counter;
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help,
                              const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  auto& series = family(name, help, kGauge).get(labels);
  if (series.read) throw std::logic_error("metric " + name + ": this series is a callback gauge");
  if (!series.gauge) series.gauge = std::make_unique<Gauge>();
  return *series.gauge;
}

void MetricsRegistry::gauge_callback(const std::string& name, const std::string& help,
                                     const MetricLabels& labels, std::function<double()> read) {
  if (!read) throw std::logic_error("metric " + name + ": empty gauge callback");
  std::lock_guard lock(mutex_);
  auto& series = family(name, help, kGauge).get(labels);
  if (series.gauge) throw std::logic_error("metric " + name + ": this series is a plain gauge");
  series.read = std::make_shared<const std::function<double()>>(std::move(read));
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                      std::vector<double> buckets, const MetricLabels& labels) {
  if (!buckets.empty() && std::isinf(buckets.back()) && buckets.back() > 0) buckets.pop_back();
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    if (std::isnan(buckets[i]) || (i > 0 && !(buckets[i] > buckets[i - 1]))) {
      throw std::logic_error("histogram " + name + ": buckets must increase strictly");
    }
  }
  std::lock_guard lock(mutex_);
  auto& fam = family(name, help, kHistogram);
  if (!fam.has_buckets) {
    fam.buckets = buckets;
    fam.has_buckets = true;
  } else if (fam.buckets != buckets) {
    throw std::logic_error("histogram " + name + " already exists with other buckets");
  }
  auto& series = fam.get(labels);
  if (!series.histogram) series.histogram = std::make_unique<Histogram>(std::move(buckets));
  return *series.histogram;
}

std::string MetricsRegistry::render() const {
  // Series are never removed, so their pointers stay valid after the lock is released; the
  // callbacks run unlocked so that they may take locks of their own.
  struct Row {
    const Family* family;
    const Family::Series* series;
    std::shared_ptr<const std::function<double()>> read;
  };
  std::vector<std::pair<std::string, std::vector<Row>>> snapshot;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, fam] : families_) {
      std::vector<Row> rows;
      for (const auto& series : fam->series)
        rows.push_back({fam.get(), series.get(), series->read});
      std::string header = "# HELP " + name + " " + escape(fam->help, false) + "\n# TYPE " + name +
                           " " + type_name(fam->type) + "\n";
      snapshot.emplace_back(std::move(header), std::move(rows));
    }
  }
  std::string out;
  for (const auto& [header, rows] : snapshot) {
    out += header;
    for (const auto& row : rows) {
      const auto& name = row.family->name;
      const auto& labels = row.series->labels;
      if (row.series->counter) {
        out += name + braced(labels) + " " + format_value(row.series->counter->value()) + "\n";
      } else if (row.series->gauge) {
        out += name + braced(labels) + " " + format_value(row.series->gauge->value()) + "\n";
      } else if (row.read) {
        out += name + braced(labels) + " " + format_value((*row.read)()) + "\n";
      } else if (row.series->histogram) {
        const Histogram& h = *row.series->histogram;
        auto counts = h.cumulative_counts();
        std::string prefix = labels.empty() ? std::string() : labels + ",";
        for (std::size_t i = 0; i < counts.size(); ++i) {
          std::string le = i < h.upper_bounds().size() ? format_value(h.upper_bounds()[i]) : "+Inf";
          out +=
              name + "_bucket{" + prefix + "le=\"" + le + "\"} " + std::to_string(counts[i]) + "\n";
        }
        out += name + "_sum" + braced(labels) + " " + format_value(h.sum()) + "\n";
        out += name + "_count" + braced(labels) + " " + std::to_string(counts.back()) + "\n";
      }
    }
  }
  return out;
}

std::vector<double> latency_buckets_seconds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace lookalike
