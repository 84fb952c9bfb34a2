// lookalike: one binary, many subcommands. Configuration precedence: flags > LOOKALIKE_*
// environment > .env file > defaults.
#include <cstdio>
#include <exception>

#include "apps/commands.h"
#include "apps/env_file.h"
#include "apps/output.h"
#include "core/thread_pool.h"

namespace {

// --env-file must be known before CLI11 reads environment fallbacks, so it is found first.
std::string find_env_file(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--env-file") return argv[i + 1];
  }
  if (const char* env = std::getenv("LOOKALIKE_ENV_FILE")) return env;
  return ".env";
}

int run_main(int argc, char** argv) {
  using namespace lookalike::apps;
  if (auto status = load_env_file(find_env_file(argc, argv)); !status) return fail(status.error());

  CLI::App app{"Lookalike: visual product search"};
  app.set_version_flag("--version", "lookalike 0.1.0");
  app.require_subcommand(1);
  // Global options may also follow the subcommand: `lookalike bench embed --threads 1`.
  app.fallthrough();
  GlobalOptions global;
  std::string env_file;
  app.add_option("--env-file", env_file,
                 "KEY=VALUE file read before the environment (default .env)");
  app.add_option("--threads", global.threads, "Compute threads (default: one per core)")
      ->envname("LOOKALIKE_THREADS")
      ->check(CLI::Range(0, 1024));
  app.add_option("--backend", global.backend, "Compute backend: onednn or reference")
      ->envname("LOOKALIKE_BACKEND")
      ->check(CLI::IsMember({"onednn", "reference"}));
  app.add_option("--precision", global.precision,
                 "Matrix products in f32 (exact) or bf16 (~2x faster)")
      ->envname("LOOKALIKE_PRECISION")
      ->check(CLI::IsMember({"f32", "bf16"}));

  CommandFn run;
  register_embed_commands(app, global, run);
  register_tokenize_command(app, run);
  register_preprocess_command(app, run);
  register_model_commands(app, run);
  register_bench_commands(app, global, run);
  register_ingest_command(app, global, run);
  register_search_command(app, global, run);
  register_stats_command(app, run);
  register_reindex_command(app, global, run);
  register_serve_command(app, global, run);
  register_worker_command(app, global, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitFailure;
  }
  lookalike::configure_compute_threads(global.threads);
  return run ? run() : kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run_main(argc, argv);
  } catch (const std::exception& e) {
    // Exceptions are bugs (or out of memory): report them plainly rather than abort.
    std::fprintf(stderr, "{\"error\": {\"code\": \"internal\", \"message\": \"%s\"}}\n", e.what());
    return lookalike::apps::kExitFailure;
  }
}
