// `lookalike stats`: counts of the catalogue and the vector index, as one JSON object.
#include "apps/commands.h"
#include "apps/data_options.h"
#include "apps/output.h"
#include "apps/stores.h"
#include "image/preprocess_config.h"
#include "search/model_fingerprint.h"

namespace lookalike::apps {

namespace {

int run_stats(const DataOptions& data) {
  std::string fingerprint;
  int dimension = 0;
  if (!data.model.empty()) {
    auto dim = model_dimension(data.model);
    if (!dim) return fail(dim.error());
    dimension = *dim;
    auto preprocess = image::PreprocessConfig::load(data.model);
    if (!preprocess) return fail(preprocess.error());
    auto computed = search::model_fingerprint(data.model, *preprocess);
    if (!computed) return fail(computed.error());
    fingerprint = *computed;
  }
  // Without --model the index is read as stored (dimension and fingerprint from its files).
  auto stores = open_stores(data, {fingerprint, dimension, !fingerprint.empty()});
  if (!stores) return fail(stores.error());
  auto stats = stores->catalog->stats();
  if (!stats) return fail(stats.error());
  index::IndexInfo empty;
  empty.backend = "embedded";
  empty.kind = "none";
  auto info = stores->index ? stores->index->info() : Result<index::IndexInfo>(empty);
  if (!info) return fail(info.error());
  nlohmann::ordered_json json;
  json["products"] = stats->products;
  json["images"] = stats->images;
  json["vectors"] = info->points;
  json["distinct_images"] = stats->distinct_images;
  json["embeddings"] = stats->embeddings;
  json["catalog"] = {{"backend", stores->catalog->backend_name()},
                     {"last_change_seq", stats->last_change_seq}};
  json["index"] = {{"backend", info->backend},
                   {"kind", info->kind},
                   {"dimension", info->dimension},
                   {"fingerprint", info->fingerprint},
                   {"applied_seq", info->applied_seq}};
  if (!info->note.empty()) json["index"]["note"] = info->note;
  print_json_line(json);
  return kExitOk;
}

}  // namespace

void register_stats_command(CLI::App& app, CommandFn& run) {
  auto data = std::make_shared<DataOptions>();
  auto* command = app.add_subcommand("stats", "Catalogue and index counts");
  add_data_options(*command, *data, false);
  command->add_option("--model", data->model, "CLIP model directory (optional)")
      ->envname("LOOKALIKE_MODEL");
  command->callback([&run, data] { run = [data] { return run_stats(*data); }; });
}

}  // namespace lookalike::apps
