// Chooses and opens the vector index backend from configuration.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "index/vector_index.h"

namespace lookalike::index {

struct HnswOptions {
  int m = 16;  // graph degree (level 0 has 2*m)
  int ef_construction = 100;
  int ef_search = 128;               // at least the requested limit is used
  std::int64_t exact_below = 20000;  // below this many points (or filter matches) scan exactly
};

struct IndexOptions {
  std::string backend = "embedded";  // "embedded" or "qdrant"
  int dimension = 512;
  std::string fingerprint;  // model fingerprint; an embedded index of another fingerprint is reset

  // embedded
  std::string directory;  // DATA/index
  HnswOptions hnsw;

  // qdrant
  std::string qdrant_url;  // "http://localhost:6333"
  std::string qdrant_api_key;
  std::string collection = "product_embeddings";
};

// The embedded backend persists applied_seq with its files. Remote backends (Qdrant) hold it only
// in memory: the caller stores it elsewhere (the catalogue's index_applied_seq).
bool persists_applied_seq(const IndexOptions& options);

// Dimension 0 with an empty fingerprint opens an embedded index as stored, read-only uses such as
// `stats` without a model (kNotFound when there is none).
Result<std::unique_ptr<VectorIndex>> open_vector_index(const IndexOptions& options);

}  // namespace lookalike::index
