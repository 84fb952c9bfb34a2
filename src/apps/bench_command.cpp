// `lookalike bench embed`: images/s at a batch size, one-query text latency percentiles, batched
// text throughput, model load time and peak RSS, as one JSON line (and a table on stderr).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "apps/commands.h"
#include "apps/image_loader.h"
#include "apps/latency_summary.h"
#include "apps/model_loading.h"
#include "apps/output.h"
#include "core/thread_pool.h"

namespace lookalike::apps {

namespace {

using Clock = std::chrono::steady_clock;

struct BenchOptions {
  std::string model;
  int batch = 16;
  double seconds = 5.0;
  std::string image;  // optional: measure decode + preprocess + embed of this file too
};

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Repeats fn until `seconds` passed (at least `min_runs` times), returning each run's ms.
template <typename Fn>
std::vector<double> repeat(double seconds, int min_runs, Fn fn) {
  std::vector<double> samples;
  const auto start = Clock::now();
  while (static_cast<int>(samples.size()) < min_runs || ms_since(start) < seconds * 1000) {
    const auto t = Clock::now();
    fn();
    samples.push_back(ms_since(t));
  }
  return samples;
}

const std::vector<std::string> kQueries = {
    "red leather handbag with gold chain",   "men's running shoes size 42",
    "wooden dining table for 6 people",      "stainless steel water bottle 750ml",
    "kids' winter jacket waterproof hooded", "wireless noise cancelling headphones",
    "women's silk scarf floral print",       "gaming laptop RTX 4070 16GB RAM"};

int run_bench(const BenchOptions& options, const GlobalOptions& global) {
  const auto load_start = Clock::now();
  auto loaded = load_model_for_command(options.model, global, true, true);
  if (!loaded) return fail(loaded.error());
  const double load_ms = ms_since(load_start);
  const auto& model = **loaded;
  const int dim = model.embedding_dim();

  // Images: a fixed pseudo-random batch of preprocessed tensors (the tower's cost does not
  // depend on the values).
  std::vector<float> pixels(static_cast<std::size_t>(options.batch) * model.image_tensor_size());
  std::uint32_t state = 12345;
  for (auto& p : pixels) {
    state = state * 1664525u + 1013904223u;
    p = static_cast<float>(state >> 8) / static_cast<float>(1 << 24) * 4.0f - 2.0f;
  }
  std::vector<float> out(static_cast<std::size_t>(std::max(options.batch, 32)) * dim);
  (void)model.embed_images(pixels.data(), options.batch,
                           out.data());  // warm-up: primitives, caches
  auto image_ms = repeat(options.seconds, 3, [&] {
    (void)model.embed_images(pixels.data(), options.batch, out.data());
  });
  double image_total = 0;
  for (double s : image_ms) image_total += s;
  const double images_per_s = options.batch * image_ms.size() / (image_total / 1000);

  nlohmann::ordered_json result = {{"model", model.config().name},
                                   {"test_model", model.config().test_model},
                                   {"backend", model.backend().name()},
                                   {"precision", clip::precision_name(model.backend().precision())},
                                   {"threads", compute_threads()},
                                   {"batch", options.batch},
                                   {"load_ms", load_ms},
                                   {"images_per_s", images_per_s},
                                   {"image_batch_ms", latency_summary(image_ms)}};

  if (!options.image.empty()) {
    auto loader = ImageLoader::for_model(options.model);
    if (!loader) return fail(loader.error());
    std::vector<std::string> files(options.batch, options.image);
    std::vector<float> batch_pixels;
    double decode_ms = 0;
    auto pipeline_ms = repeat(options.seconds, 3, [&] {
      const auto decode_start = Clock::now();
      batch_pixels.clear();
      for (auto& item : loader->load(files)) {
        if (item.tensor)
          batch_pixels.insert(batch_pixels.end(), item.tensor->begin(), item.tensor->end());
      }
      decode_ms += ms_since(decode_start);
      (void)model.embed_images(batch_pixels.data(), options.batch, out.data());
    });
    if (batch_pixels.size() != pixels.size()) {
      return fail(make_error(ErrorCode::kInvalidArgument, options.image + ": cannot be decoded"));
    }
    double total = 0;
    for (double s : pipeline_ms) total += s;
    result["decode_preprocess_ms_per_image"] = decode_ms / (options.batch * pipeline_ms.size());
    result["pipeline_images_per_s"] = options.batch * pipeline_ms.size() / (total / 1000);
  }

  std::size_t next = 0;
  (void)model.embed_texts(std::span(kQueries).subspan(0, 1), out.data());
  auto text_ms = repeat(options.seconds / 2, 50, [&] {
    (void)model.embed_texts(std::span(kQueries).subspan(next++ % kQueries.size(), 1), out.data());
  });
  std::vector<std::string> many;
  for (int i = 0; i < 32; ++i)
    many.push_back(kQueries[i % kQueries.size()] + " " + std::to_string(i));
  auto batch_ms =
      repeat(options.seconds / 2, 3, [&] { (void)model.embed_texts(many, out.data()); });
  double batch_total = 0;
  for (double s : batch_ms) batch_total += s;
  result["text_query_ms"] = latency_summary(text_ms);
  result["text_queries_per_s"] = many.size() * batch_ms.size() / (batch_total / 1000);

  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  result["peak_rss_mb"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
  print_json_line(result);
  std::fprintf(stderr,
               "model %s%s, backend %s, %d threads\n  load            %8.1f ms\n  images/s        "
               "%8.1f (batch %d)\n"
               "  text query p50  %8.2f ms  p99 %.2f ms\n  text queries/s  %8.1f (batch 32)\n  "
               "peak RSS        %8.0f MiB\n",
               model.config().name.c_str(),
               model.config().test_model ? " (TEST MODEL, random weights)" : "",
               std::string(model.backend().name()).c_str(), compute_threads(), load_ms,
               images_per_s, options.batch, result["text_query_ms"]["p50"].get<double>(),
               result["text_query_ms"]["p99"].get<double>(),
               result["text_queries_per_s"].get<double>(), result["peak_rss_mb"].get<double>());
  return kExitOk;
}

}  // namespace

void register_bench_commands(CLI::App& app, const GlobalOptions& global, CommandFn& run) {
  auto* bench = app.add_subcommand("bench", "Benchmarks that print numbers");
  bench->require_subcommand(1);
  auto options = std::make_shared<BenchOptions>();
  auto* embed = bench->add_subcommand("embed", "CLIP embedding throughput and latency");
  embed->add_option("--model", options->model, "Model directory")
      ->required()
      ->envname("LOOKALIKE_MODEL");
  embed->add_option("--batch", options->batch, "Images per forward pass")
      ->check(CLI::Range(1, 256));
  embed->add_option("--seconds", options->seconds, "Time per measurement")
      ->check(CLI::Range(0.1, 600.0));
  embed->add_option("--image", options->image,
                    "Also time decode + preprocess + embed of this image");
  embed->callback([&run, &global, options] {
    run = [&global, options] { return run_bench(*options, global); };
  });
  register_bench_index_command(*bench, run);
  register_bench_catalog_command(*bench, run);
  register_bench_http_command(*bench, run);
}

}  // namespace lookalike::apps
