// Each subcommand registers its options on the CLI11 app and sets `run` to its body; main()
// parses once and calls it. Dependencies are built inside each command (no globals).
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

namespace lookalike::apps {

// Options every subcommand shares.
struct GlobalOptions {
  int threads = 0;                 // 0: one per available core
  std::string backend = "onednn";  // compute backend
  std::string precision = "f32";   // f32 or bf16 matrix products
};

using CommandFn = std::function<int()>;

void register_embed_commands(CLI::App& app, const GlobalOptions& global, CommandFn& run);
void register_tokenize_command(CLI::App& app, CommandFn& run);
void register_preprocess_command(CLI::App& app, CommandFn& run);
void register_model_commands(CLI::App& app, CommandFn& run);
void register_bench_commands(CLI::App& app, const GlobalOptions& global, CommandFn& run);
void register_ingest_command(CLI::App& app, const GlobalOptions& global, CommandFn& run);
void register_search_command(CLI::App& app, const GlobalOptions& global, CommandFn& run);
void register_stats_command(CLI::App& app, CommandFn& run);
void register_reindex_command(CLI::App& app, const GlobalOptions& global, CommandFn& run);
void register_serve_command(CLI::App& app, const GlobalOptions& global, CommandFn& run);
void register_worker_command(CLI::App& app, const GlobalOptions& global, CommandFn& run);
// `bench index`: vector index build time, latency and recall (registered under `bench`).
void register_bench_index_command(CLI::App& bench, CommandFn& run);
// `bench catalog`: a synthetic catalogue in a data dir, for search benchmarks.
void register_bench_catalog_command(CLI::App& bench, CommandFn& run);
// `bench http`: load a running server with searches (throughput, latency percentiles).
void register_bench_http_command(CLI::App& bench, CommandFn& run);

}  // namespace lookalike::apps
