#include "apps/data_options.h"

namespace lookalike::apps {

void add_data_options(CLI::App& command, DataOptions& options, bool with_model) {
  command
      .add_option("--data-dir", options.data_dir,
                  "Directory of the embedded catalogue, index and images (default ./data)")
      ->envname("LOOKALIKE_DATA_DIR");
  command
      .add_option("--database-url", options.database_url,
                  "postgresql://user:pass@host:port/db for PostgreSQL (default: SQLite in "
                  "--data-dir)")
      ->envname("LOOKALIKE_DATABASE_URL");
  command
      .add_option("--qdrant-url", options.qdrant_url,
                  "Qdrant REST endpoint, e.g. http://localhost:6333 (default: embedded index)")
      ->envname("LOOKALIKE_QDRANT_URL");
  command.add_option("--qdrant-api-key", options.qdrant_api_key, "Qdrant API key")
      ->envname("LOOKALIKE_QDRANT_API_KEY");
  command
      .add_option("--qdrant-collection", options.qdrant_collection,
                  "Qdrant collection (default product_embeddings)")
      ->envname("LOOKALIKE_QDRANT_COLLECTION");
  if (with_model) {
    command.add_option("--model", options.model, "CLIP model directory")
        ->required()
        ->envname("LOOKALIKE_MODEL");
  }
}

}  // namespace lookalike::apps
