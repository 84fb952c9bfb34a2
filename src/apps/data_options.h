// The options every data command shares (ingest, search, stats, reindex; later serve and worker):
// where the catalogue, the vector index and the images live. Each has a LOOKALIKE_* variable.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace lookalike::apps {

struct DataOptions {
  std::string data_dir = "data";
  std::string database_url;  // empty: SQLite under data_dir
  std::string qdrant_url;    // empty: the embedded index under data_dir
  std::string qdrant_api_key;
  std::string qdrant_collection = "product_embeddings";
  std::string model;
};

// Adds --data-dir, --database-url, --qdrant-url, --qdrant-api-key, --qdrant-collection and, when
// `with_model`, --model (required unless LOOKALIKE_MODEL is set).
void add_data_options(CLI::App& command, DataOptions& options, bool with_model);

}  // namespace lookalike::apps
