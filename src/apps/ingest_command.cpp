// `lookalike ingest SOURCE`: a directory in the seed's layout, a CSV/JSONL manifest or an S3 prefix
// → stored images, catalogue rows and index vectors. Prints one JSON summary line.
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "apps/commands.h"
#include "apps/data_options.h"
#include "apps/model_loading.h"
#include "apps/output.h"
#include "apps/progress_bar.h"
#include "apps/stores.h"
#include "image/preprocess_config.h"
#include "ingest/ingest_pipeline.h"
#include "ingest/source/source_factory.h"
#include "search/model_fingerprint.h"

namespace lookalike::apps {

namespace {

struct IngestCommandOptions {
  std::string source;
  DataOptions data;
  int concurrency = 5;
  int batch = 16;
  std::string id_prefix;
  std::string report;
  std::string s3_endpoint;
  std::string s3_region = "us-east-1";
  double max_image_mb = 50;
};

// Set by SIGINT/SIGTERM: stop listing, finish what is in flight, commit, exit. A signal handler
// can only reach a static; this one is private to the ingest command.
std::atomic<bool> stop_requested{false};

void on_stop_signal(int) { stop_requested = true; }

nlohmann::ordered_json summary_json(const ingest::IngestSummary& summary,
                                    const catalog::CatalogStats& stats) {
  const auto& c = summary.counters;
  nlohmann::ordered_json json;
  json["ingested"] = c.products_ingested;
  json["skipped"] = c.products_skipped;
  json["failed"] = c.products_failed;
  json["duplicates"] = c.images_duplicate;
  json["images_stored"] = c.images_stored;
  json["images_embedded"] = c.images_embedded;
  json["images_skipped"] = c.images_skipped;
  json["images_failed"] = c.images_failed;
  json["bytes_downloaded"] = c.bytes_downloaded;
  json["seconds"] = summary.seconds;
  json["images_per_s"] = summary.images_per_second;
  json["stopped"] = summary.stopped;
  json["catalog"] = {{"products", stats.products}, {"images", stats.images}};
  return json;
}

int run_ingest(const IngestCommandOptions& options, const GlobalOptions& global) {
  auto model = load_model_for_command(options.data.model, global, true, false);
  if (!model) return fail(model.error());
  auto preprocess = image::PreprocessConfig::load(options.data.model);
  if (!preprocess) return fail(preprocess.error());
  image::ClipPreprocessor preprocessor(*preprocess);
  if (static_cast<std::size_t>(3 * preprocessor.output_width() * preprocessor.output_height()) !=
      (*model)->image_tensor_size()) {
    return fail(make_error(ErrorCode::kInvalidArgument,
                           "preprocessor_config.json crop does not match the model's image_size"));
  }
  auto fingerprint = search::model_fingerprint(options.data.model, *preprocess);
  if (!fingerprint) return fail(fingerprint.error());
  auto stores = open_stores(options.data, {*fingerprint, (*model)->embedding_dim(), true});
  if (!stores) return fail(stores.error());

  ingest::SourceFetcherOptions fetcher_options;
  std::unique_ptr<ingest::S3Client> s3;
  bool wants_s3 = options.source.starts_with("s3://") || !options.s3_endpoint.empty();
  auto credentials = ingest::s3_credentials_from_environment();
  if (wants_s3 && !credentials) return fail(credentials.error());
  if (credentials) {
    ingest::S3ClientOptions s3_options;
    s3_options.endpoint = options.s3_endpoint;
    s3_options.region = options.s3_region;
    s3_options.credentials = *credentials;
    fetcher_options.s3 = s3_options;
    s3 = std::make_unique<ingest::S3Client>(s3_options);
  }
  auto source = ingest::open_product_source(options.source, {options.id_prefix, s3.get()});
  if (!source) return fail(source.error());
  ingest::SourceFetcher fetcher(fetcher_options);
  ingest::IngestReport report;
  if (!options.report.empty()) {
    if (auto status = report.open(options.report); !status) return fail(status.error());
  }
  ingest::ImageStore store(images_dir(options.data));

  ingest::IngestOptions pipeline_options;
  pipeline_options.concurrency = options.concurrency;
  pipeline_options.batch = options.batch;
  pipeline_options.fingerprint = *fingerprint;
  pipeline_options.limits.max_bytes = static_cast<std::size_t>(options.max_image_mb * (1 << 20));
  pipeline_options.stop = &stop_requested;
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);

  ingest::IngestPipeline pipeline(**model, preprocessor, *stores->catalog, *stores->index,
                                  *stores->sync, store, fetcher, report, pipeline_options);
  ProgressBar bar("ingest " + (*source)->description(), "products");
  auto summary = pipeline.run(**source, [&](const ingest::IngestProgress& p) {
    const auto& c = p.counters;
    auto done = c.products_ingested + c.products_skipped + c.products_failed;
    bar.update(static_cast<std::uint64_t>(done),
               p.listing_done ? static_cast<std::uint64_t>(p.products_listed) : 0);
  });
  bar.finish();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (!summary) return fail(summary.error());
  auto stats = stores->catalog->stats();
  if (!stats) return fail(stats.error());
  print_json_line(summary_json(*summary, *stats));
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
      ->add_option("source", options->source,
                   "DIR ({product_id}/image_*.jpg), manifest.csv, manifest.jsonl or s3://...")
      ->required();
  add_data_options(*command, options->data, true);
  command->add_option("--concurrency", options->concurrency, "Parallel downloads (default 5)")
      ->check(CLI::Range(1, 64));
  command->add_option("--batch", options->batch, "Images per forward pass (default 16)")
      ->check(CLI::Range(1, 256));
  command->add_option("--id-prefix", options->id_prefix,
                      "Prefix of external ids, e.g. bakai_ (external_id = prefix + product id)");
  command->add_option("--report", options->report,
                      "JSON Lines file listing every failed, duplicate or skipped item");
  command
      ->add_option("--s3-endpoint", options->s3_endpoint,
                   "S3-compatible endpoint, e.g. http://127.0.0.1:9000 (default: AWS)")
      ->envname("LOOKALIKE_S3_ENDPOINT");
  command->add_option("--s3-region", options->s3_region, "S3 region (default us-east-1)")
      ->envname("AWS_REGION");
  command
      ->add_option("--max-image-mb", options->max_image_mb,
                   "Largest accepted image file in MiB (default 50)")
      ->check(CLI::Range(0.001, 1024.0));
  command->callback([&run, &global, options] {
    run = [&global, options] { return run_ingest(*options, global); };
  });
}

}  // namespace lookalike::apps
