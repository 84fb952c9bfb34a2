#include "apps/commands.h"

namespace lookalike::apps {

void register_bench_index_command(CLI::App& bench, CommandFn& run) {
  (void)bench;
  (void)run;
}

}  // namespace lookalike::apps
