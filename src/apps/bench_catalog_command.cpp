// `lookalike bench catalog`: fills a data directory with a SYNTHETIC catalogue — N image vectors
// (three per product, clustered like CLIP embeddings, labelled "synthetic" in the metadata) under
// the model's fingerprint — and builds its index, so that search latency and memory can be
// measured at 200K scale with a fresh `lookalike search` process (bench/search_bench.sh).
#include <chrono>
#include <cstdio>

#include "apps/commands.h"
#include "apps/data_options.h"
#include "apps/output.h"
#include "apps/stores.h"
#include "apps/synthetic_points.h"
#include "image/preprocess_config.h"
#include "search/model_fingerprint.h"

namespace lookalike::apps {

namespace {

struct BenchCatalogOptions {
  DataOptions data;
  int points = 200000;
};

constexpr int kImagesPerProduct = 3;
constexpr int kProductsPerWrite = 500;

std::string fake_sha(std::int64_t id) {
  char hex[65];
  std::snprintf(hex, sizeof hex, "%064llx", static_cast<unsigned long long>(id));
  return hex;
}

int run_bench_catalog(const BenchCatalogOptions& o) {
  auto preprocess = image::PreprocessConfig::load(o.data.model);
  if (!preprocess) return fail(preprocess.error());
  auto fingerprint = search::model_fingerprint(o.data.model, *preprocess);
  if (!fingerprint) return fail(fingerprint.error());
  auto dim = model_dimension(o.data.model);
  if (!dim) return fail(dim.error());
  auto stores = open_stores(o.data, {*fingerprint, *dim, false});
  if (!stores) return fail(stores.error());
  auto existing = stores->catalog->stats();
  if (!existing) return fail(existing.error());
  if (existing->products > 0) {
    return fail(make_error(ErrorCode::kFailedPrecondition,
                           o.data.data_dir + " already holds a catalogue; use an empty one"));
  }
  auto start = std::chrono::steady_clock::now();
  auto points = synthetic_points({o.points, *dim, true}, o.points, 1);
  std::vector<catalog::ProductWrite> writes;
  for (std::size_t i = 0; i < points.size(); i += kImagesPerProduct) {
    catalog::ProductWrite write;
    auto n = static_cast<std::int64_t>(i / kImagesPerProduct);
    const auto& first = points[i].payload;
    write.product.external_id = "synthetic_" + std::to_string(n);
    write.product.title = "Synthetic product " + std::to_string(n);
    write.product.category = first.category;
    write.product.price_cents = first.price_cents;
    write.product.currency = "USD";
    write.product.metadata = {{"source", "lookalike bench catalog"}, {"synthetic", true}};
    for (std::size_t k = i; k < std::min(points.size(), i + kImagesPerProduct); ++k) {
      catalog::ProductImage image;
      image.position = static_cast<int>(k - i) + 1;
      image.path = write.product.external_id + "/image_" + std::to_string(image.position) + ".jpg";
      image.url = "/images/" + image.path;
      image.sha256 = fake_sha(points[k].id);
      image.format = "jpeg";
      write.images.push_back(image);
      write.embeddings.push_back({image.sha256, *fingerprint, std::move(points[k].vector)});
    }
    write.product.image_url = write.images.front().url;
    writes.push_back(std::move(write));
    if (writes.size() == kProductsPerWrite || i + kImagesPerProduct >= points.size()) {
      if (auto stored = stores->catalog->write_products(writes); !stored) {
        return fail(stored.error());
      }
      writes.clear();
    }
  }
  auto written = std::chrono::steady_clock::now();
  auto synced = stores->sync->catch_up();
  if (!synced) return fail(synced.error());
  if (auto status = stores->index->flush(); !status) return fail(status.error());
  auto done = std::chrono::steady_clock::now();
  nlohmann::ordered_json json;
  json["points"] = o.points;
  json["catalog_write_s"] = std::chrono::duration<double>(written - start).count();
  json["index_build_s"] = std::chrono::duration<double>(done - written).count();
  json["fingerprint"] = *fingerprint;
  print_json_line(json);
  return kExitOk;
}

}  // namespace

void register_bench_catalog_command(CLI::App& bench, CommandFn& run) {
  auto options = std::make_shared<BenchCatalogOptions>();
  auto* command = bench.add_subcommand(
      "catalog", "Fill an empty data dir with a synthetic catalogue (for search benchmarks)");
  add_data_options(*command, options->data, true);
  command->add_option("--points", options->points, "Image vectors (three per product)")
      ->check(CLI::Range(3, 10'000'000));
  command->callback([&run, options] { run = [options] { return run_bench_catalog(*options); }; });
}

}  // namespace lookalike::apps
