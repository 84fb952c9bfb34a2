// ProductJob: one source product on its way through the ingestion pipeline — what the catalogue
// holds for it, and each image once fetched, validated and stored (with the slot that will carry
// its embedding when one is still needed).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/product.h"
#include "ingest/embedding_slot.h"
#include "ingest/source/source_product.h"

namespace lookalike::ingest {

struct PreparedImage {
  catalog::ProductImage row;  // what write_products stores for it
  // Null when the catalogue already has this content's vector for the model.
  std::shared_ptr<EmbeddingSlot> slot;
  bool owner = false;  // this image's worker owns `slot` (its tensor is embedded with this job)
};

struct ProductJob {
  SourceProduct source;
  std::optional<catalog::Product> existing;
  std::vector<PreparedImage> images;
  // Files of the stored product no longer referenced after this job is written.
  std::vector<std::string> obsolete_paths;
  bool unchanged = false;  // already ingested exactly like this: nothing to write
  std::int64_t images_failed = 0;

  bool failed() const { return images.empty(); }
  // True once every slot it uses has its vector.
  bool ready() const {
    for (const auto& image : images) {
      if (image.slot && !image.slot->embedded) return false;
    }
    return true;
  }
};

}  // namespace lookalike::ingest
