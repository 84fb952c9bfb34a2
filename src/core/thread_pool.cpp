#include "core/thread_pool.h"

#include <omp.h>
#include <sched.h>

namespace lookalike {

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int count = CPU_COUNT(&set);
    if (count > 0) return count;
  }
  return 1;
}

void configure_compute_threads(int threads) {
  omp_set_num_threads(threads > 0 ? threads : available_cores());
  // Threads that finish a parallel region spin briefly instead of sleeping; the layers run
  // back to back, so this saves a wake-up per kernel.
  omp_set_dynamic(0);
}

int compute_threads() { return omp_get_max_threads(); }

}  // namespace lookalike
