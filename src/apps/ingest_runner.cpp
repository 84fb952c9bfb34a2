#include "apps/ingest_runner.h"

#include <memory>

#include "ingest/image_store.h"
#include "ingest/s3/s3_client.h"
#include "ingest/source/source_factory.h"
#include "ingest/source_fetcher.h"

namespace lookalike::apps {

Status check_preprocessor_fits(const clip::ClipModel& model,
                               const image::ClipPreprocessor& preprocessor) {
  if (static_cast<std::size_t>(3 * preprocessor.output_width() * preprocessor.output_height()) !=
      model.image_tensor_size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "preprocessor_config.json crop does not match the model's image_size");
  }
  return ok_status();
}

Result<ingest::IngestSummary> run_ingest_request(
    const IngestRequest& request, const IngestTargets& targets, ingest::IngestReport& report,
    const std::atomic<bool>* stop,
    const std::function<void(const ingest::IngestProgress&)>& progress,
    const std::function<void(const std::string&)>& on_open) {
  if (auto status = check_preprocessor_fits(targets.model, targets.preprocessor); !status) {
    return status.error();
  }
  ingest::SourceFetcherOptions fetcher_options;
  std::unique_ptr<ingest::S3Client> s3;
  bool wants_s3 = request.source.starts_with("s3://") || !request.s3_endpoint.empty();
  auto credentials = ingest::s3_credentials_from_environment();
  if (wants_s3 && !credentials) return credentials.error();
  if (credentials) {
    ingest::S3ClientOptions s3_options;
    s3_options.endpoint = request.s3_endpoint;
    s3_options.region = request.s3_region;
    s3_options.credentials = *credentials;
    fetcher_options.s3 = s3_options;
    s3 = std::make_unique<ingest::S3Client>(s3_options);
  }
  auto source = ingest::open_product_source(request.source, {request.id_prefix, s3.get()});
  if (!source) return source.error();
  if (on_open) on_open((*source)->description());
  ingest::SourceFetcher fetcher(fetcher_options);
  ingest::ImageStore store(targets.images_dir);

  ingest::IngestOptions options;
  options.concurrency = request.concurrency;
  options.batch = request.batch;
  options.fingerprint = targets.fingerprint;
  options.limits.max_bytes = static_cast<std::size_t>(request.max_image_mb * (1 << 20));
  options.stop = stop;
  ingest::IngestPipeline pipeline(targets.model, targets.preprocessor, targets.catalog,
                                  targets.index, targets.sync, store, fetcher, report, options);
  return pipeline.run(**source, progress);
}

nlohmann::ordered_json ingest_summary_json(const ingest::IngestSummary& summary,
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

nlohmann::ordered_json ingest_progress_json(const ingest::IngestProgress& progress) {
  const auto& c = progress.counters;
  nlohmann::ordered_json json;
  json["listed"] = progress.products_listed;
  json["listing_done"] = progress.listing_done;
  json["done"] = c.products_ingested + c.products_skipped + c.products_failed;
  json["ingested"] = c.products_ingested;
  json["skipped"] = c.products_skipped;
  json["failed"] = c.products_failed;
  json["images_embedded"] = c.images_embedded;
  json["images_failed"] = c.images_failed;
  json["seconds"] = progress.seconds;
  return json;
}

}  // namespace lookalike::apps
