// ProductPreparer: the per-product work of an ingestion worker. It compares the source product
// with what the catalogue holds, fetches images that may have changed, hashes, deduplicates,
// validates (full decode within limits), preprocesses and stores them, and produces a ProductJob.
// Bad images go to the report; they never stop the run.
// Thread-safety: prepare() runs concurrently on the pipeline's workers; everything borrowed is
// thread-safe and outlives the preparer.
#pragma once

#include <set>
#include <string>

#include "catalog/catalog.h"
#include "image/clip_preprocessor.h"
#include "image/image_decoder.h"
#include "ingest/embedding_slot.h"
#include "ingest/image_store.h"
#include "ingest/ingest_report.h"
#include "ingest/product_job.h"
#include "ingest/source_fetcher.h"

namespace lookalike::ingest {

class ProductPreparer {
 public:
  ProductPreparer(const catalog::Catalog& catalog, const ImageStore& store, SourceFetcher& fetcher,
                  SlotRegistry& slots, const image::ClipPreprocessor& preprocessor,
                  image::DecodeLimits limits, std::string fingerprint, IngestReport& report);

  ProductJob prepare(SourceProduct source);

 private:
  // Fills `out` for the image at `position`. Errors: the image is unusable (the caller reports
  // it); kAlreadyExists: the same bytes as an earlier image of this product (`seen`).
  Status prepare_image(const std::string& external_id, const SourceImage& source, int position,
                       const catalog::ProductImage* stored, std::set<std::string>& seen,
                       PreparedImage& out);
  // Owner of a new content: validate, preprocess, store (or share a stored copy). The caller
  // publishes the slot.
  void fill_slot(EmbeddingSlot& slot, const std::string& bytes, const std::string& external_id,
                 int position);

  const catalog::Catalog& catalog_;
  const ImageStore& store_;
  SourceFetcher& fetcher_;
  SlotRegistry& slots_;
  const image::ClipPreprocessor& preprocessor_;
  image::DecodeLimits limits_;
  std::string fingerprint_;
  IngestReport& report_;
};

}  // namespace lookalike::ingest
