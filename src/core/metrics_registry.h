// MetricsRegistry: counters, gauges and histograms rendered in the Prometheus text exposition
// format 0.0.4 for GET /metrics. Hand-written because prometheus-cpp is not packaged in Debian 12.
// Thread-safety: every method may be called from any thread. Updates to a Counter, Gauge or
// Histogram are lock-free atomics (they run on every HTTP request); looking a series up takes a
// mutex, so hot paths keep the returned reference, which lives as long as the registry.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace lookalike {

// Label names and values, rendered in the order given.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(double v = 1);  // v must not be negative (a bug: throws std::logic_error)
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Buckets are upper bounds, strictly increasing; +Inf is implicit. Counts are kept per bucket and
// made cumulative when rendered, so _count always equals the +Inf bucket.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double v);

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }
  // Cumulative counts, one per upper bound plus the last for +Inf.
  std::vector<std::uint64_t> cumulative_counts() const;
  std::uint64_t count() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // upper_bounds_.size() + 1
  std::atomic<double> sum_{0};
};

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // The same name and labels return the same series. Reusing a name with another type, invalid
  // metric or label names, or a histogram with other buckets are bugs: std::logic_error.
  Counter& counter(const std::string& name, const std::string& help,
                   const MetricLabels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const MetricLabels& labels = {});
  // A gauge read at scrape time (index size, catalogue counts). `read` is called from render()'s
  // thread without the registry's lock held and must be thread-safe; registering the same series
  // again replaces the callback.
  void gauge_callback(const std::string& name, const std::string& help, const MetricLabels& labels,
                      std::function<double()> read);
  Histogram& histogram(const std::string& name, const std::string& help,
                       std::vector<double> buckets, const MetricLabels& labels = {});

  // Text format 0.0.4: one HELP and TYPE per family, families sorted by name, series in the
  // order they were created.
  std::string render() const;

 private:
  struct Family;
  Family& family(const std::string& name, const std::string& help, int type);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Family>> families_;
};

// Seconds from 1 ms to 10 s, for HTTP request and embedding latencies.
std::vector<double> latency_buckets_seconds();

}  // namespace lookalike
