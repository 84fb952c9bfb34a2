// IngestPipeline: source → parallel fetch/validate/store workers → batched embedding → batched
// catalogue writes → index catch-up, all overlapping (a pipeline, not phases). Each product is
// written whole in one catalogue transaction together with its images and new embeddings, so a
// kill -9 at any moment loses at most the products in flight, which a re-run redoes; unchanged
// products are skipped. The catalogue is written before the index, which replays its change log.
// Thread-safety: run() once at a time; it starts and joins its own threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "catalog/catalog.h"
#include "clip/clip_model.h"
#include "core/result.h"
#include "image/clip_preprocessor.h"
#include "image/image_decoder.h"
#include "index/vector_index.h"
#include "ingest/image_store.h"
#include "ingest/ingest_report.h"
#include "ingest/source/product_source.h"
#include "ingest/source_fetcher.h"
#include "search/index_sync.h"

namespace lookalike::ingest {

struct IngestOptions {
  int concurrency = 5;       // parallel fetch + validate workers (the seed used 5)
  int batch = 16;            // images per forward pass
  int commit_products = 64;  // products per catalogue transaction (at most)
  std::chrono::milliseconds commit_interval{1000};  // ...or this long, whichever comes first
  std::chrono::seconds index_flush_interval{60};    // embedded index persisted this often
  image::DecodeLimits limits;
  std::string fingerprint;  // the model's (search::model_fingerprint)
  // Set from a signal handler to stop taking new products; in-flight ones are finished.
  const std::atomic<bool>* stop = nullptr;
};

struct IngestProgress {
  IngestCounters counters;
  std::int64_t products_listed = 0;  // source items so far (products and bad items)
  bool listing_done = false;
  double seconds = 0;
};

struct IngestSummary {
  IngestCounters counters;
  std::int64_t source_problems = 0;
  double seconds = 0;
  double images_per_second = 0;  // images embedded per second of the run
  bool stopped = false;          // stopped early by `stop`
};

class IngestPipeline {
 public:
  // `index` and `sync` may both be null: a worker process that does not own the vector index
  // writes only the catalogue, and the index's owner replays the change log.
  IngestPipeline(const clip::ClipModel& model, const image::ClipPreprocessor& preprocessor,
                 catalog::Catalog& catalog, index::VectorIndex* index, search::IndexSync* sync,
                 const ImageStore& store, SourceFetcher& fetcher, IngestReport& report,
                 IngestOptions options);

  // `progress` is called from the writer thread after each commit and once at the end.
  Result<IngestSummary> run(ProductSource& source,
                            const std::function<void(const IngestProgress&)>& progress = {});

 private:
  const clip::ClipModel& model_;
  const image::ClipPreprocessor& preprocessor_;
  catalog::Catalog& catalog_;
  index::VectorIndex* index_;
  search::IndexSync* sync_;
  const ImageStore& store_;
  SourceFetcher& fetcher_;
  IngestReport& report_;
  IngestOptions options_;
};

}  // namespace lookalike::ingest
