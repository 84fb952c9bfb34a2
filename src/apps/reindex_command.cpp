// `lookalike reindex [--re-embed]`: rebuilds the vector index (embedded or Qdrant) from the
// catalogue, the source of truth — the seed's "Reindex Qdrant" task. With --re-embed, every stored
// image without a vector for the current model is embedded first (after a model change: all).
#include <cstdio>

#include "apps/commands.h"
#include "apps/data_options.h"
#include "apps/model_loading.h"
#include "apps/output.h"
#include "apps/progress_bar.h"
#include "apps/re_embedder.h"
#include "apps/stores.h"
#include "image/clip_preprocessor.h"
#include "search/model_fingerprint.h"

namespace lookalike::apps {

namespace {

struct ReindexOptions {
  DataOptions data;
  bool re_embed = false;
  int batch = 16;
};

int run_reindex(const ReindexOptions& options, const GlobalOptions& global) {
  auto preprocess = image::PreprocessConfig::load(options.data.model);
  if (!preprocess) return fail(preprocess.error());
  auto fingerprint = search::model_fingerprint(options.data.model, *preprocess);
  if (!fingerprint) return fail(fingerprint.error());
  auto model = load_model_for_command(options.data.model, global, options.re_embed, false);
  if (!model) return fail(model.error());
  auto stores = open_stores(options.data, {*fingerprint, (*model)->embedding_dim(), false, true});
  if (!stores) return fail(stores.error());
  auto start = std::chrono::steady_clock::now();
  ReEmbedCounts counts;
  if (options.re_embed) {
    image::ClipPreprocessor preprocessor(*preprocess);
    ProgressBar bar("re-embed", "images");
    ReEmbedCallbacks callbacks;
    callbacks.progress = [&](const ReEmbedCounts& c) {
      bar.update(static_cast<std::uint64_t>(c.embedded), 0);
    };
    callbacks.failed = [](const std::string& path, const Error& error) {
      print_error(error, {{"image", path}});
    };
    auto result = re_embed_missing(**model, preprocessor, *stores->catalog, *fingerprint,
                                   images_dir(options.data), options.batch, callbacks);
    bar.finish();
    if (!result) return fail(result.error());
    counts = *result;
  }
  ProgressBar bar("reindex", "vectors");
  auto rebuilt = stores->sync->rebuild(
      [&](std::int64_t done) { bar.update(static_cast<std::uint64_t>(done), 0); });
  bar.finish();
  if (!rebuilt) return fail(rebuilt.error());
  auto info = stores->index->info();
  if (!info) return fail(info.error());
  nlohmann::ordered_json json;
  json["vectors"] = info->points;
  json["re_embedded"] = counts.embedded;
  json["failed"] = counts.failed;
  json["index"] = {{"backend", info->backend},
                   {"kind", info->kind},
                   {"fingerprint", info->fingerprint},
                   {"applied_seq", info->applied_seq}};
  json["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  print_json_line(json);
  return counts.failed > 0 ? kExitPartial : kExitOk;
}

}  // namespace

void register_reindex_command(CLI::App& app, const GlobalOptions& global, CommandFn& run) {
  auto options = std::make_shared<ReindexOptions>();
  auto* command = app.add_subcommand("reindex", "Rebuild the vector index from the catalogue");
  add_data_options(*command, options->data, true);
  command->add_flag("--re-embed", options->re_embed,
                    "First embed every stored image that has no vector for this model");
  command->add_option("--batch", options->batch, "Images per forward pass (default 16)")
      ->check(CLI::Range(1, 256));
  command->callback([&run, &global, options] {
    run = [&global, options] { return run_reindex(*options, global); };
  });
}

}  // namespace lookalike::apps
