// `lookalike tokenize`: {"text", "ids"} per text, with start and end tokens.
#include "apps/commands.h"
#include "apps/output.h"
#include "clip/clip_config.h"
#include "clip/tokenizer.h"

namespace lookalike::apps {

void register_tokenize_command(CLI::App& app, CommandFn& run) {
  struct Options {
    std::string model;
    std::vector<std::string> texts;
  };
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("tokenize", "Print CLIP token ids of texts");
  cmd->add_option("--model", options->model, "Model directory (vocab.json, merges.txt)")
      ->required()
      ->envname("LOOKALIKE_MODEL");
  cmd->add_option("texts", options->texts, "Texts")->required();
  cmd->callback([&run, options] {
    run = [options] {
      auto tokenizer = clip::ClipTokenizer::load(options->model);
      if (!tokenizer) return fail(tokenizer.error());
      std::size_t max_length = 77;
      if (auto config = clip::ClipConfig::load(options->model)) {
        max_length = static_cast<std::size_t>(config->text.max_position_embeddings);
      }
      for (const auto& text : options->texts) {
        print_json_line({{"text", text}, {"ids", tokenizer->encode(text, max_length)}});
      }
      return static_cast<int>(kExitOk);
    };
  });
}

}  // namespace lookalike::apps
