// `lookalike model pull|info|init-random`.
#include <memory>

#include "apps/commands.h"
#include "apps/output.h"
#include "apps/progress_bar.h"
#include "clip/clip_config.h"
#include "clip/model_puller.h"
#include "clip/random_model_writer.h"
#include "clip/safetensors_file.h"

namespace lookalike::apps {

namespace {

int run_pull(const clip::PullOptions& options) {
  std::unique_ptr<ProgressBar> bar;
  std::string current;
  auto result = clip::pull_model(options, [&](const clip::PullProgress& p) {
    if (p.file != current) {
      if (bar) bar->finish();
      current = p.file;
      bar = std::make_unique<ProgressBar>(p.file, "B");
    }
    bar->update(p.done_bytes, p.total_bytes);
  });
  if (bar) bar->finish();
  if (!result) return fail(result.error());
  for (const auto& file : *result) {
    print_json_line({{"file", file.file},
                     {"size", file.size},
                     {"sha256", file.sha256},
                     {"verified", file.verified},
                     {"skipped_existing", file.skipped_existing}});
  }
  return kExitOk;
}

int run_info(const std::string& dir) {
  auto config = clip::ClipConfig::load(dir);
  if (!config) return fail(config.error());
  auto info = config->summary();
  auto weights = clip::SafetensorsFile::open(std::filesystem::path(dir) / "model.safetensors");
  if (weights) {
    std::int64_t parameters = 0;
    std::map<std::string, int> dtypes;
    for (const auto& t : weights->tensors()) {
      parameters += t.numel();
      dtypes[std::string(clip::dtype_name(t.dtype))]++;
    }
    info["weights"] = {
        {"tensors", weights->tensors().size()}, {"parameters", parameters}, {"dtypes", dtypes}};
  } else {
    info["weights"] = {{"error", weights.error().to_string()}};
  }
  print_json_line(info);
  return kExitOk;
}

}  // namespace

void register_model_commands(CLI::App& app, CommandFn& run) {
  auto* model = app.add_subcommand("model", "Get, inspect or fabricate model directories");
  model->require_subcommand(1);

  auto pull_options = std::make_shared<clip::PullOptions>();
  pull_options->endpoint = clip::default_hf_endpoint();
  pull_options->token = clip::default_hf_token();
  pull_options->dir = "models/clip-vit-base-patch32";
  auto* pull = model->add_subcommand(
      "pull", "Download a model from the Hugging Face hub (resumable, verified)");
  pull->add_option("--repo", pull_options->repo, "Repository")->capture_default_str();
  pull->add_option("--revision", pull_options->revision, "Branch, tag or commit")
      ->capture_default_str();
  pull->add_option("--dir", pull_options->dir, "Destination directory")->capture_default_str();
  pull->add_option("--endpoint", pull_options->endpoint, "Hub endpoint (HF_ENDPOINT)")
      ->capture_default_str();
  pull->add_option("--retries", pull_options->max_retries, "Retries per file")
      ->check(CLI::Range(0, 100));
  pull->callback(
      [&run, pull_options] { run = [pull_options] { return run_pull(*pull_options); }; });

  auto info_dir = std::make_shared<std::string>();
  auto* info = model->add_subcommand("info", "Print a model directory's configuration summary");
  info->add_option("--model", *info_dir, "Model directory")->required()->envname("LOOKALIKE_MODEL");
  info->callback([&run, info_dir] { run = [info_dir] { return run_info(*info_dir); }; });

  struct InitOptions {
    std::string like, out, dtype = "f32";
    std::uint64_t seed = 0;
  };
  auto init = std::make_shared<InitOptions>();
  auto* init_cmd =
      model->add_subcommand("init-random", "Write a random-weight TEST model shaped like another");
  init_cmd->add_option("--like", init->like, "Model directory whose config and tokenizer to copy")
      ->required();
  init_cmd->add_option("--out", init->out, "Output directory")->required();
  init_cmd->add_option("--seed", init->seed, "Random seed");
  init_cmd->add_option("--dtype", init->dtype, "Weight type")
      ->check(CLI::IsMember({"f32", "f16", "bf16"}));
  init_cmd->callback([&run, init] {
    run = [init] {
      clip::RandomModelOptions options;
      options.like = init->like;
      options.out = init->out;
      options.seed = init->seed;
      options.dtype = init->dtype == "f16"    ? clip::DType::kF16
                      : init->dtype == "bf16" ? clip::DType::kBF16
                                              : clip::DType::kF32;
      auto status = clip::write_random_model(options);
      if (!status) return fail(status.error());
      print_json_line({{"model", init->out},
                       {"test_model", true},
                       {"seed", init->seed},
                       {"dtype", init->dtype}});
      return static_cast<int>(kExitOk);
    };
  });
}

}  // namespace lookalike::apps
