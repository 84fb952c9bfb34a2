// `lookalike ingest SOURCE`: a directory in the seed's layout, a CSV/JSONL manifest or an S3 prefix
// → stored images, catalogue rows and index vectors. Prints one JSON summary line.
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "apps/commands.h"
#include "apps/data_options.h"
#include "apps/ingest_runner.h"
#include "apps/model_loading.h"
#include "apps/output.h"
#include "apps/progress_bar.h"
#include "apps/stores.h"
#include "image/preprocess_config.h"
#include "search/model_fingerprint.h"

namespace lookalike::apps {

namespace {

struct IngestCommandOptions {
  IngestRequest request;
  DataOptions data;
  std::string report;
};

// Set by SIGINT/SIGTERM: stop listing, finish what is in flight, commit, exit. A signal handler
// can only reach a static; this one is private to the ingest command.
std::atomic<bool> stop_requested{false};

void on_stop_signal(int) { stop_requested = true; }

int run_ingest(const IngestCommandOptions& options, const GlobalOptions& global) {
  auto model = load_model_for_command(options.data.model, global, true, false);
  if (!model) return fail(model.error());
  auto preprocess = image::PreprocessConfig::load(options.data.model);
  if (!preprocess) return fail(preprocess.error());
  image::ClipPreprocessor preprocessor(*preprocess);
  if (auto status = check_preprocessor_fits(**model, preprocessor); !status) {
    return fail(status.error());
  }
  auto fingerprint = search::model_fingerprint(options.data.model, *preprocess);
  if (!fingerprint) return fail(fingerprint.error());
  auto stores = open_stores(options.data, {*fingerprint, (*model)->embedding_dim(), true});
  if (!stores) return fail(stores.error());
  ingest::IngestReport report;
  if (!options.report.empty()) {
    if (auto status = report.open(options.report); !status) return fail(status.error());
  }
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  IngestTargets targets{**model,
                        preprocessor,
                        *fingerprint,
                        *stores->catalog,
                        stores->index.get(),
                        stores->sync.get(),
                        images_dir(options.data)};
  std::unique_ptr<ProgressBar> bar;
  auto summary = run_ingest_request(
      options.request, targets, report, &stop_requested,
      [&](const ingest::IngestProgress& p) {
        const auto& c = p.counters;
        auto done = c.products_ingested + c.products_skipped + c.products_failed;
        bar->update(static_cast<std::uint64_t>(done),
                    p.listing_done ? static_cast<std::uint64_t>(p.products_listed) : 0);
      },
      [&](const std::string& description) {
        bar = std::make_unique<ProgressBar>("ingest " + description, "products");
      });
  if (bar) bar->finish();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (!summary) return fail(summary.error());
  auto stats = stores->catalog->stats();
  if (!stats) return fail(stats.error());
  print_json_line(ingest_summary_json(*summary, *stats));
  const auto& c = summary->counters;
  std::fprintf(
      stderr,
      "ingested %lld, skipped %lld unchanged, %lld duplicate images, %lld failed "
      "products, %lld failed images; %.1f images/s over %.1f s\n",
      static_cast<long long>(c.products_ingested), static_cast<long long>(c.products_skipped),
      static_cast<long long>(c.images_duplicate), static_cast<long long>(c.products_failed),
      static_cast<long long>(c.images_failed), summary->images_per_second, summary->seconds);
  return c.products_failed + c.images_failed > 0 ? kExitPartial : kExitOk;
}

}  // namespace

void register_ingest_command(CLI::App& app, const GlobalOptions& global, CommandFn& run) {
  auto options = std::make_shared<IngestCommandOptions>();
  auto* command = app.add_subcommand(
      "ingest", "Ingest products from a directory, a CSV/JSONL manifest or s3://bucket/prefix");
  command
      ->add_option("source", options->request.source,
                   "DIR ({product_id}/image_*.jpg), manifest.csv, manifest.jsonl or s3://...")
      ->required();
  add_data_options(*command, options->data, true);
  command
      ->add_option("--concurrency", options->request.concurrency, "Parallel downloads (default 5)")
      ->check(CLI::Range(1, 64));
  command->add_option("--batch", options->request.batch, "Images per forward pass (default 16)")
      ->check(CLI::Range(1, 256));
  command->add_option("--id-prefix", options->request.id_prefix,
                      "Prefix of external ids, e.g. bakai_ (external_id = prefix + product id)");
  command->add_option("--report", options->report,
                      "JSON Lines file listing every failed, duplicate or skipped item");
  command
      ->add_option("--s3-endpoint", options->request.s3_endpoint,
                   "S3-compatible endpoint, e.g. http://127.0.0.1:9000 (default: AWS)")
      ->envname("LOOKALIKE_S3_ENDPOINT");
  command->add_option("--s3-region", options->request.s3_region, "S3 region (default us-east-1)")
      ->envname("AWS_REGION");
  command
      ->add_option("--max-image-mb", options->request.max_image_mb,
                   "Largest accepted image file in MiB (default 50)")
      ->check(CLI::Range(0.001, 1024.0));
  command->callback([&run, &global, options] {
    run = [&global, options] { return run_ingest(*options, global); };
  });
}

}  // namespace lookalike::apps
