// `lookalike bench http`: a load generator for a running `lookalike serve`. N clients, each with
// its own keep-alive connection, send search requests back to back for a fixed time; prints
// throughput, error count and latency percentiles (client-side and the server's took_ms).
// Kinds: text (a new query each time, so the text tower runs), text-cached (one query: the
// cache answers), image (the same JPEG as the body), product (more like this).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include "apps/commands.h"
#include "apps/latency_summary.h"
#include "apps/output.h"
#include "core/file_util.h"
#include "core/http_client.h"

namespace lookalike::apps {

namespace {

using Clock = std::chrono::steady_clock;

struct BenchHttpOptions {
  std::string url = "http://127.0.0.1:8008";
  std::string kind = "text";
  int clients = 1;
  double seconds = 10;
  double warmup_seconds = 2;
  std::string image;
  std::string product;
  std::string api_key;
  int top_k = 20;
};

struct Samples {
  std::mutex mutex;
  std::vector<double> latency_ms;
  std::vector<double> took_ms;
  std::int64_t errors = 0;
  std::string first_error;
};

HttpRequest make_request(const BenchHttpOptions& options, const std::string& image,
                         std::uint64_t n) {
  HttpRequest request;
  request.method = "POST";
  if (!options.api_key.empty()) request.headers.push_back({"X-API-Key", options.api_key});
  const std::string top_k = std::to_string(options.top_k);
  if (options.kind == "image") {
    request.url = options.url + "/api/v1/search/by-image?top_k=" + top_k;
    request.headers.push_back({"Content-Type", "image/jpeg"});
    request.body = image;
  } else if (options.kind == "product") {
    request.url = options.url + "/api/v1/search/by-product/" + options.product + "?top_k=" + top_k;
  } else {
    // A distinct query per request defeats the cache; text-cached repeats one.
    static const char* const kWords[] = {"red",    "leather", "handbag", "running", "sneaker",
                                         "blue",   "denim",   "jacket",  "wooden",  "chair",
                                         "silver", "watch",   "summer",  "dress",   "black"};
    std::string query = "red leather handbag";
    if (options.kind == "text") {
      query.clear();
      for (std::uint64_t k = n + 1; k > 0; k /= 15) query += std::string(kWords[k % 15]) + " ";
      query += std::to_string(n);
    }
    request.url = options.url + "/api/v1/search/by-text";
    request.headers.push_back({"Content-Type", "application/json"});
    request.body = nlohmann::json({{"query", query}, {"top_k", options.top_k}}).dump();
  }
  return request;
}

void client_loop(const BenchHttpOptions& options, const std::string& image,
                 std::atomic<std::uint64_t>& counter, Clock::time_point measure_from,
                 Clock::time_point until, Samples& samples) {
  HttpOptions http;
  http.timeout_s = 60;
  HttpClient client(http);
  while (Clock::now() < until) {
    auto request = make_request(options, image, counter++);
    auto start = Clock::now();
    auto response = client.request(request);
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (start < measure_from) continue;
    std::lock_guard lock(samples.mutex);
    if (!response || response->status != 200) {
      if (samples.errors++ == 0) {
        samples.first_error = response ? std::to_string(response->status) + " " + response->body
                                       : response.error().to_string();
      }
      continue;
    }
    samples.latency_ms.push_back(ms);
    auto body = nlohmann::json::parse(response->body, nullptr, false);
    if (body.is_object() && body.contains("took_ms")) samples.took_ms.push_back(body["took_ms"]);
  }
}

int run_bench_http(const BenchHttpOptions& options) {
  std::string image;
  if (options.kind == "image") {
    if (options.image.empty())
      return fail(make_error(ErrorCode::kInvalidArgument, "--image is required"));
    auto bytes = read_file(options.image);
    if (!bytes) return fail(bytes.error());
    image = std::move(*bytes);
  }
  if (options.kind == "product" && options.product.empty()) {
    return fail(make_error(ErrorCode::kInvalidArgument, "--product is required"));
  }
  Samples samples;
  std::atomic<std::uint64_t> counter{0};
  const auto start = Clock::now();
  const auto measure_from = start + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(options.warmup_seconds));
  const auto until = measure_from + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(options.seconds));
  std::vector<std::thread> threads;
  for (int i = 0; i < options.clients; ++i) {
    threads.emplace_back(
        [&] { client_loop(options, image, counter, measure_from, until, samples); });
  }
  for (auto& thread : threads) thread.join();
  const double measured_s = std::chrono::duration<double>(Clock::now() - measure_from).count();
  nlohmann::ordered_json result;
  result["kind"] = options.kind;
  result["clients"] = options.clients;
  result["seconds"] = measured_s;
  result["requests"] = samples.latency_ms.size();
  result["errors"] = samples.errors;
  if (!samples.first_error.empty()) result["first_error"] = samples.first_error.substr(0, 300);
  result["requests_per_s"] = static_cast<double>(samples.latency_ms.size()) / measured_s;
  result["latency_ms"] = latency_summary(samples.latency_ms);
  result["server_took_ms"] = latency_summary(samples.took_ms);
  print_json_line(result);
  std::fprintf(stderr, "%s x%d: %.1f req/s, p50 %.2f ms, p99 %.2f ms, %lld errors\n",
               options.kind.c_str(), options.clients, result["requests_per_s"].get<double>(),
               result["latency_ms"]["p50"].get<double>(), result["latency_ms"]["p99"].get<double>(),
               static_cast<long long>(samples.errors));
  return samples.errors > 0 ? kExitPartial : kExitOk;
}

}  // namespace

void register_bench_http_command(CLI::App& bench, CommandFn& run) {
  auto options = std::make_shared<BenchHttpOptions>();
  auto* command = bench.add_subcommand("http", "Load a running `lookalike serve` with searches");
  command->add_option("--url", options->url, "Server URL (default http://127.0.0.1:8008)");
  command->add_option("--kind", options->kind, "text, text-cached, image or product")
      ->check(CLI::IsMember({"text", "text-cached", "image", "product"}));
  command->add_option("--clients", options->clients, "Concurrent clients (default 1)")
      ->check(CLI::Range(1, 1024));
  command->add_option("--seconds", options->seconds, "Measured seconds (default 10)")
      ->check(CLI::Range(0.1, 3600.0));
  command->add_option("--warmup", options->warmup_seconds, "Unmeasured seconds first (default 2)")
      ->check(CLI::Range(0.0, 600.0));
  command->add_option("--image", options->image, "JPEG sent by --kind image");
  command->add_option("--product", options->product, "Product id for --kind product");
  command->add_option("--api-key", options->api_key, "Sent as X-API-Key")
      ->envname("LOOKALIKE_SEARCH_API_KEY");
  command->add_option("--top-k", options->top_k, "Results per query (default 20)")
      ->check(CLI::Range(1, 1000));
  command->callback([&run, options] { run = [options] { return run_bench_http(*options); }; });
}

}  // namespace lookalike::apps
