// `lookalike reindex [--re-embed]`: rebuilds the vector index (embedded or Qdrant) from the
// catalogue, the source of truth — the seed's "Reindex Qdrant" task. With --re-embed, every stored
// image without a vector for the current model is embedded first (after a model change: all).
#include <cstdio>

#include "apps/commands.h"
#include "apps/data_options.h"
#include "apps/model_loading.h"
#include "apps/output.h"
#include "apps/progress_bar.h"
#include "apps/stores.h"
#include "image/clip_preprocessor.h"
#include "image/image_decoder.h"
#include "ingest/image_store.h"
#include "search/model_fingerprint.h"

namespace lookalike::apps {

namespace {

struct ReindexOptions {
  DataOptions data;
  bool re_embed = false;
  int batch = 16;
};

struct ReEmbedCounts {
  std::int64_t embedded = 0;
  std::int64_t failed = 0;
};

// Embeds, page by page, every distinct stored image that has no vector for `fingerprint`.
Result<ReEmbedCounts> re_embed(const ReindexOptions& options, const clip::ClipModel& model,
                               const image::ClipPreprocessor& preprocessor,
                               catalog::Catalog& catalog, const std::string& fingerprint) {
  ingest::ImageStore store(images_dir(options.data));
  ReEmbedCounts counts;
  ProgressBar bar("re-embed", "images");
  std::string after;
  const std::size_t tensor_size = model.image_tensor_size();
  const auto dim = static_cast<std::size_t>(model.embedding_dim());
  for (;;) {
    auto page = catalog.images_missing_embedding(fingerprint, after, options.batch);
    if (!page) return page.error();
    if (page->empty()) break;
    after = page->back().sha256;
    std::vector<float> pixels;
    std::vector<std::string> shas;
    for (const auto& image : *page) {
      auto decoded = image::decode_image_file(store.absolute(image.path));
      if (!decoded) {
        ++counts.failed;
        print_error(decoded.error(), {{"image", image.path}});
        continue;
      }
      auto tensor = preprocessor.preprocess(*decoded);
      if (tensor.size() != tensor_size) {
        return make_error(ErrorCode::kInvalidArgument,
                          "preprocessor_config.json crop does not match the model's image_size");
      }
      pixels.insert(pixels.end(), tensor.begin(), tensor.end());
      shas.push_back(image.sha256);
    }
    if (shas.empty()) continue;
    std::vector<float> out(shas.size() * dim);
    if (auto status = model.embed_images(pixels.data(), static_cast<int>(shas.size()), out.data());
        !status) {
      return status.error();
    }
    std::vector<catalog::Embedding> embeddings;
    for (std::size_t i = 0; i < shas.size(); ++i) {
      embeddings.push_back(
          {shas[i], fingerprint,
           std::vector<float>(out.begin() + static_cast<std::ptrdiff_t>(i * dim),
                              out.begin() + static_cast<std::ptrdiff_t>((i + 1) * dim))});
    }
    if (auto status = catalog.put_embeddings(embeddings); !status) return status.error();
    counts.embedded += static_cast<std::int64_t>(shas.size());
    bar.update(static_cast<std::uint64_t>(counts.embedded), 0);
  }
  bar.finish();
  return counts;
}

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
    auto result = re_embed(options, **model, preprocessor, *stores->catalog, *fingerprint);
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
