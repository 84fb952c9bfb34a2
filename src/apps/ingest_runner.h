// One ingestion run, shared by `lookalike ingest`, in-process jobs of `lookalike serve` and
// `lookalike worker`: opens the source (S3 client from the environment's credentials), the fetcher
// and the image store, and runs the pipeline into the given catalogue (and index, if owned).
// Thread-safety: one call per run; everything borrowed outlives the call.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "clip/clip_model.h"
#include "core/result.h"
#include "image/clip_preprocessor.h"
#include "index/vector_index.h"
#include "ingest/ingest_pipeline.h"
#include "ingest/ingest_report.h"
#include "search/index_sync.h"

namespace lookalike::apps {

struct IngestRequest {
  std::string source;  // DIR, manifest.csv, manifest.jsonl or s3://bucket/prefix
  std::string id_prefix;
  int concurrency = 5;
  int batch = 16;
  std::string s3_endpoint;
  std::string s3_region = "us-east-1";
  double max_image_mb = 50;
};

struct IngestTargets {
  const clip::ClipModel& model;
  const image::ClipPreprocessor& preprocessor;
  std::string fingerprint;
  catalog::Catalog& catalog;
  index::VectorIndex* index = nullptr;  // null: catalogue only (a worker)
  search::IndexSync* sync = nullptr;
  std::string images_dir;
};

// kInvalidArgument when preprocessor_config.json's crop does not fit the model's image size.
Status check_preprocessor_fits(const clip::ClipModel& model,
                               const image::ClipPreprocessor& preprocessor);

// Runs the whole ingestion. `description` (if not null) receives the source's description first.
Result<ingest::IngestSummary> run_ingest_request(
    const IngestRequest& request, const IngestTargets& targets, ingest::IngestReport& report,
    const std::atomic<bool>* stop,
    const std::function<void(const ingest::IngestProgress&)>& progress,
    const std::function<void(const std::string& description)>& on_open = {});

// The summary line of `lookalike ingest` and the result of an ingest job.
nlohmann::ordered_json ingest_summary_json(const ingest::IngestSummary& summary,
                                           const catalog::CatalogStats& stats);
// The counts of a run in progress (job progress).
nlohmann::ordered_json ingest_progress_json(const ingest::IngestProgress& progress);

}  // namespace lookalike::apps
