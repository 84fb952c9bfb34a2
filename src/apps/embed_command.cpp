// `lookalike embed image|text`: one {"file"|"text", "embedding"} JSON line per input.
#include <vector>

#include "apps/commands.h"
#include "apps/image_loader.h"
#include "apps/model_loading.h"
#include "apps/output.h"

namespace lookalike::apps {

namespace {

struct EmbedOptions {
  std::string model;
  bool raw = false;
  int batch = 16;
  std::vector<std::string> inputs;
};

std::vector<float> row(const std::vector<float>& all, std::size_t i, int dim) {
  return {all.begin() + static_cast<std::ptrdiff_t>(i * dim),
          all.begin() + static_cast<std::ptrdiff_t>((i + 1) * dim)};
}

int embed_images(const EmbedOptions& options, const GlobalOptions& global) {
  auto model = load_model_for_command(options.model, global, true, false);
  if (!model) return fail(model.error());
  auto loader = ImageLoader::for_model(options.model);
  if (!loader) return fail(loader.error());
  const int dim = (*model)->embedding_dim();
  const std::size_t tensor_size = (*model)->image_tensor_size();
  int failures = 0;
  for (std::size_t first = 0; first < options.inputs.size(); first += options.batch) {
    std::vector<std::string> files(
        options.inputs.begin() + first,
        options.inputs.begin() + std::min(options.inputs.size(), first + options.batch));
    auto loaded = loader->load(files);
    std::vector<float> pixels;
    std::vector<std::size_t> good;
    for (std::size_t i = 0; i < loaded.size(); ++i) {
      if (!loaded[i].tensor) continue;
      if (loaded[i].tensor->size() != tensor_size) {
        loaded[i].tensor =
            make_error(ErrorCode::kInvalidArgument,
                       "preprocessor_config.json crop does not match the model's image_size");
        continue;
      }
      pixels.insert(pixels.end(), loaded[i].tensor->begin(), loaded[i].tensor->end());
      good.push_back(i);
    }
    std::vector<float> embeddings(good.size() * dim);
    if (!good.empty()) {
      auto status = (*model)->embed_images(pixels.data(), static_cast<int>(good.size()),
                                           embeddings.data(), !options.raw);
      if (!status) return fail(status.error());
    }
    std::size_t next = 0;
    for (std::size_t i = 0; i < loaded.size(); ++i) {
      if (!loaded[i].tensor) {
        print_error(loaded[i].tensor.error(), {{"file", loaded[i].file}});
        ++failures;
        continue;
      }
      print_json_line({{"file", loaded[i].file}, {"embedding", row(embeddings, next++, dim)}});
    }
  }
  return failures > 0 ? kExitPartial : kExitOk;
}

int embed_texts(const EmbedOptions& options, const GlobalOptions& global) {
  auto model = load_model_for_command(options.model, global, false, true);
  if (!model) return fail(model.error());
  const int dim = (*model)->embedding_dim();
  for (std::size_t first = 0; first < options.inputs.size(); first += options.batch) {
    std::vector<std::string> texts(
        options.inputs.begin() + first,
        options.inputs.begin() + std::min(options.inputs.size(), first + options.batch));
    std::vector<float> embeddings(texts.size() * dim);
    auto status = (*model)->embed_texts(texts, embeddings.data(), !options.raw);
    if (!status) return fail(status.error());
    for (std::size_t i = 0; i < texts.size(); ++i) {
      print_json_line({{"text", texts[i]}, {"embedding", row(embeddings, i, dim)}});
    }
  }
  return kExitOk;
}

void add_common(CLI::App* cmd, EmbedOptions& options, const char* inputs_name,
                const char* inputs_help) {
  cmd->add_option("--model", options.model, "Hugging Face CLIP model directory")
      ->required()
      ->envname("LOOKALIKE_MODEL");
  cmd->add_flag("--raw", options.raw,
                "Print the raw projection instead of the L2-normalised embedding");
  cmd->add_option("--batch", options.batch, "Inputs per forward pass")->check(CLI::Range(1, 1024));
  cmd->add_option(inputs_name, options.inputs, inputs_help)->required();
}

}  // namespace

void register_embed_commands(CLI::App& app, const GlobalOptions& global, CommandFn& run) {
  auto* embed = app.add_subcommand("embed", "Embed images or texts with the CLIP model");
  embed->require_subcommand(1);
  auto options = std::make_shared<EmbedOptions>();
  auto* image = embed->add_subcommand("image", "Embed image files: one JSON line per file");
  add_common(image, *options, "files", "Image files");
  image->callback([&run, &global, options] {
    run = [&global, options] { return embed_images(*options, global); };
  });
  auto* text = embed->add_subcommand("text", "Embed texts: one JSON line per text");
  add_common(text, *options, "texts", "Texts");
  text->callback([&run, &global, options] {
    run = [&global, options] { return embed_texts(*options, global); };
  });
}

}  // namespace lookalike::apps
