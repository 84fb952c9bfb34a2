#include "apps/stores.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <system_error>

#include "core/file_util.h"
#include "index/index_factory.h"

namespace lookalike::apps {

namespace fs = std::filesystem;

std::string images_dir(const DataOptions& data) {
  return (fs::path(data.data_dir) / "images").string();
}

Result<int> model_dimension(const std::string& model_dir) {
  auto config = read_json_file(fs::path(model_dir) / "config.json");
  if (!config) return config.error();
  auto dim = config->find("projection_dim");
  if (dim == config->end() || !dim->is_number_integer() || dim->get<int>() <= 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      model_dir + "/config.json: projection_dim must be a positive integer");
  }
  return dim->get<int>();
}

Result<Stores> open_stores(const DataOptions& data, const StoreOpenOptions& options) {
  std::error_code ec;
  fs::create_directories(data.data_dir, ec);
  if (ec) return make_error(ErrorCode::kIoError, data.data_dir + ": " + ec.message());
  Stores stores;
  stores.fingerprint = options.fingerprint;
  auto catalog = catalog::open_catalog(data.database_url, data.data_dir);
  if (!catalog) return catalog.error().with_context("catalogue");
  stores.catalog = std::move(*catalog);
  if (!options.open_index) return stores;

  index::IndexOptions index_options;
  index_options.backend = data.qdrant_url.empty() ? "embedded" : "qdrant";
  index_options.dimension = options.dimension;
  index_options.fingerprint = options.fingerprint;
  index_options.directory = (fs::path(data.data_dir) / "index").string();
  index_options.qdrant_url = data.qdrant_url;
  index_options.qdrant_api_key = data.qdrant_api_key;
  index_options.collection = data.qdrant_collection;
  auto index = index::open_vector_index(index_options);
  // Only a command that can rebuild (it knows the model) moves a broken index aside.
  if (!index && index_options.backend == "embedded" && !options.fingerprint.empty() &&
      index.error().code == ErrorCode::kCorruptData) {
    // The catalogue is the source of truth: keep the broken files for inspection and rebuild.
    fs::path broken = index_options.directory + ".broken-" + std::to_string(::getpid());
    std::fprintf(stderr, "note: %s; moved to %s, rebuilding the index from the catalogue\n",
                 index.error().to_string().c_str(), broken.c_str());
    fs::rename(index_options.directory, broken, ec);
    if (ec) return make_error(ErrorCode::kIoError, broken.string() + ": " + ec.message());
    index = index::open_vector_index(index_options);
  }
  if (!index && index.error().code == ErrorCode::kNotFound && options.fingerprint.empty()) {
    return stores;  // read as stored, and nothing is stored yet: no index
  }
  if (!index) return index.error().with_context("vector index");
  stores.index = std::move(*index);
  if (auto info = stores.index->info(); info && !info->note.empty()) {
    std::fprintf(stderr, "note: %s\n", info->note.c_str());
  }
  // Where the catalogue keeps Qdrant's replay position (the embedded index keeps its own).
  const std::string qdrant_state = "qdrant:" + data.qdrant_collection;
  stores.sync = std::make_unique<search::IndexSync>(
      *stores.catalog, *stores.index, !index::persists_applied_seq(index_options), qdrant_state);
  if (!options.fingerprint.empty() && stores.index->fingerprint() != options.fingerprint &&
      !options.allow_other_fingerprint) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "the " + index_options.backend + " index holds vectors of model '" +
                          stores.index->fingerprint() + "', not of '" + options.fingerprint +
                          "': run `lookalike reindex --re-embed` with this model");
  }
  if (!index::persists_applied_seq(index_options)) {
    // A collection emptied or recreated behind our back (a new Qdrant volume) has to be refilled
    // from the start of the change log, whatever the catalogue remembers.
    auto info = stores.index->info();
    auto applied = stores.sync->applied_seq();
    if (info && applied && info->points == 0 && *applied > 0) {
      if (auto status = stores.catalog->set_index_applied_seq(qdrant_state, 0); !status) {
        return status.error();
      }
    }
  }
  if (options.catch_up && !options.fingerprint.empty()) {
    auto synced = stores.sync->catch_up();
    if (!synced) return synced.error().with_context("bringing the vector index up to date");
    if (synced->upserted + synced->removed > 0) {
      if (auto status = stores.index->flush(); !status) return status.error();
    }
  }
  return stores;
}

}  // namespace lookalike::apps
