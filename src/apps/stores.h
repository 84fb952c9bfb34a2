// Stores: the catalogue and the vector index a data command works on, opened from DataOptions and
// brought into step (the index replays the catalogue's change log on open). Wired here, in apps/,
// so no lower module knows about configuration.
// Ownership: Stores owns both; the IndexSync borrows them. Not thread-safe to construct.
#pragma once

#include <memory>
#include <string>

#include "apps/data_options.h"
#include "catalog/catalog.h"
#include "core/result.h"
#include "index/vector_index.h"
#include "search/index_sync.h"

namespace lookalike::apps {

struct Stores {
  std::unique_ptr<catalog::Catalog> catalog;
  // Null when opened without a model fingerprint and no index is stored yet, or not opened.
  std::unique_ptr<index::VectorIndex> index;
  std::unique_ptr<search::IndexSync> sync;
  std::string fingerprint;
};

struct StoreOpenOptions {
  std::string fingerprint;  // the model's; empty: take the index as stored (stats)
  int dimension = 512;
  bool catch_up = true;  // replay the change log into the index now
  // reindex: an index holding another model's vectors is about to be rebuilt anyway.
  bool allow_other_fingerprint = false;
  // A worker writes only the catalogue; the server that owns the index replays the change log.
  bool open_index = true;
};

Result<Stores> open_stores(const DataOptions& data, const StoreOpenOptions& options);

// The embedding dimension of a model directory (config.json's projection_dim), without loading it.
Result<int> model_dimension(const std::string& model_dir);

// DATA/images
std::string images_dir(const DataOptions& data);

}  // namespace lookalike::apps
