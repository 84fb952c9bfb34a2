#include "core/metrics_registry.h"

#include <algorithm>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace lookalike {
namespace {

TEST(MetricsRegistry, CounterWithLabels) {
  MetricsRegistry registry;
  auto& ok = registry.counter("lookalike_http_requests_total", "HTTP requests served.",
                              {{"route", "/api/v1/search"}, {"method", "POST"}, {"status", "200"}});
  auto& missing =
      registry.counter("lookalike_http_requests_total", "HTTP requests served.",
                       {{"route", "/api/v1/products/{id}"}, {"method", "GET"}, {"status", "404"}});
  ok.inc();
  ok.inc(2);
  missing.inc();
  EXPECT_EQ(ok.value(), 3);
  EXPECT_EQ(registry.render(),
            "# HELP lookalike_http_requests_total HTTP requests served.\n"
            "# TYPE lookalike_http_requests_total counter\n"
            "lookalike_http_requests_total{route=\"/api/v1/search\",method=\"POST\",status=\"200\"}"
            " 3\n"
            "lookalike_http_requests_total{route=\"/api/v1/products/{id}\",method=\"GET\","
            "status=\"404\"} 1\n");
}

TEST(MetricsRegistry, SameNameAndLabelsIsTheSameSeries) {
  MetricsRegistry registry;
  auto& a = registry.counter("c_total", "help", {{"k", "v"}});
  auto& b = registry.counter("c_total", "help", {{"k", "v"}});
  auto& c = registry.counter("c_total", "help", {{"k", "w"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
  auto& g1 = registry.gauge("g", "help");
  EXPECT_EQ(&g1, &registry.gauge("g", "help"));
}

TEST(MetricsRegistry, AnotherTypeOrBadNameIsALogicError) {
  MetricsRegistry registry;
  registry.counter("x_total", "help");
  EXPECT_THROW(registry.gauge("x_total", "help"), std::logic_error);
  EXPECT_THROW(registry.histogram("x_total", "help", {1.0}), std::logic_error);
  EXPECT_THROW(registry.counter("bad-name", "help"), std::logic_error);
  EXPECT_THROW(registry.counter("ok_total", "help", {{"0bad", "v"}}), std::logic_error);
  EXPECT_THROW(registry.counter("ok_total", "help", {{"a", "1"}, {"a", "2"}}), std::logic_error);
  EXPECT_THROW(registry.histogram("h", "help", {2.0, 1.0}), std::logic_error);
  EXPECT_THROW(registry.histogram("h2", "help", {1.0}, {{"le", "1"}}), std::logic_error);
  registry.histogram("h3", "help", {1.0});
  EXPECT_THROW(registry.histogram("h3", "help", {2.0}), std::logic_error);
  EXPECT_THROW(registry.counter("y_total", "help").inc(-1), std::logic_error);
}

TEST(MetricsRegistry, Histogram) {
  MetricsRegistry registry;
  auto& h = registry.histogram("lookalike_http_request_duration_seconds", "Request latency.",
                               {0.005, 0.1, 1}, {{"route", "/api/v1/search"}});
  h.observe(0.001);
  h.observe(0.005);  // le is inclusive
  h.observe(0.05);
  h.observe(3);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(
      registry.render(),
      "# HELP lookalike_http_request_duration_seconds Request latency.\n"
      "# TYPE lookalike_http_request_duration_seconds histogram\n"
      "lookalike_http_request_duration_seconds_bucket{route=\"/api/v1/search\",le=\"0.005\"}"
      " 2\n"
      "lookalike_http_request_duration_seconds_bucket{route=\"/api/v1/search\",le=\"0.1\"} 3\n"
      "lookalike_http_request_duration_seconds_bucket{route=\"/api/v1/search\",le=\"1\"} 3\n"
      "lookalike_http_request_duration_seconds_bucket{route=\"/api/v1/search\",le=\"+Inf\"} 4\n"
      "lookalike_http_request_duration_seconds_sum{route=\"/api/v1/search\"} 3.056\n"
      "lookalike_http_request_duration_seconds_count{route=\"/api/v1/search\"} 4\n");
}

TEST(MetricsRegistry, HistogramWithoutLabels) {
  MetricsRegistry registry;
  auto& h = registry.histogram("batch_size", "Images per batch.", {8, 32});
  h.observe(16);
  EXPECT_EQ(registry.render(),
            "# HELP batch_size Images per batch.\n"
            "# TYPE batch_size histogram\n"
            "batch_size_bucket{le=\"8\"} 0\n"
            "batch_size_bucket{le=\"32\"} 1\n"
            "batch_size_bucket{le=\"+Inf\"} 1\n"
            "batch_size_sum 16\n"
            "batch_size_count 1\n");
}

TEST(MetricsRegistry, Escaping) {
  MetricsRegistry registry;
  registry
      .counter("esc_total", "Help with a \\ backslash\nand a newline \"quoted\".",
               {{"path", "C:\\dir\n\"x\""}})
      .inc();
  EXPECT_EQ(registry.render(),
            "# HELP esc_total Help with a \\\\ backslash\\nand a newline \"quoted\".\n"
            "# TYPE esc_total counter\n"
            "esc_total{path=\"C:\\\\dir\\n\\\"x\\\"\"} 1\n");
}

TEST(MetricsRegistry, FamiliesSortedAndGaugesAndCallbacks) {
  MetricsRegistry registry;
  registry.gauge("zeta", "Last.").set(2.5);
  int vectors = 41;
  registry.gauge_callback("lookalike_index_vectors", "Vectors in the index.", {},
                          [&] { return vectors + 1.0; });
  auto& g = registry.gauge("alpha", "First.", {{"k", "v"}});
  g.set(10);
  g.add(-0.5);
  EXPECT_EQ(registry.render(),
            "# HELP alpha First.\n# TYPE alpha gauge\nalpha{k=\"v\"} 9.5\n"
            "# HELP lookalike_index_vectors Vectors in the index.\n"
            "# TYPE lookalike_index_vectors gauge\nlookalike_index_vectors 42\n"
            "# HELP zeta Last.\n# TYPE zeta gauge\nzeta 2.5\n");
  registry.gauge_callback("lookalike_index_vectors", "Vectors in the index.", {},
                          [] { return 7.0; });
  EXPECT_NE(registry.render().find("lookalike_index_vectors 7\n"), std::string::npos);
}

TEST(MetricsRegistry, CallbackMayUseTheRegistry) {
  MetricsRegistry registry;
  registry.gauge_callback("reentrant", "Reads another series.", {},
                          [&] { return registry.counter("other_total", "x").value(); });
  EXPECT_NE(registry.render().find("reentrant 0\n"), std::string::npos);
}

TEST(MetricsRegistry, ConcurrentIncrementsAndLookups) {
  MetricsRegistry registry;
  auto& h = registry.histogram("lat_seconds", "Latency.", latency_buckets_seconds());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto& c = registry.counter("hits_total", "Hits.", {{"thread", std::to_string(t % 2)}});
      for (int i = 0; i < kPerThread; ++i) {
        c.inc();
        h.observe(0.002);
        if (i % 1000 == 0) {
          registry.counter("hits_total", "Hits.", {{"thread", "0"}});
          (void)registry.render();
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  double total = registry.counter("hits_total", "Hits.", {{"thread", "0"}}).value() +
                 registry.counter("hits_total", "Hits.", {{"thread", "1"}}).value();
  EXPECT_EQ(total, kThreads * kPerThread);
  EXPECT_EQ(h.count(), static_cast<std::uint64_t>(kThreads * kPerThread));
  EXPECT_NE(registry.render().find("lat_seconds_bucket{le=\"0.0025\"} 160000\n"),
            std::string::npos);
}

TEST(MetricsRegistry, LatencyBuckets) {
  auto buckets = latency_buckets_seconds();
  ASSERT_FALSE(buckets.empty());
  EXPECT_EQ(buckets.front(), 0.001);
  EXPECT_EQ(buckets.back(), 10);
  EXPECT_TRUE(std::is_sorted(buckets.begin(), buckets.end()));
}

}  // namespace
}  // namespace lookalike
