// The process's one compute pool. oneDNN (Debian's build) runs on OpenMP, so the pool *is* the
// OpenMP pool: our kernels use `#pragma omp parallel for` and share the same threads as the
// matrix products, which avoids the oversubscription a second pool (or a threaded BLAS) causes.
#pragma once

namespace lookalike {

// Cores this process may run on (sched_getaffinity), at least 1.
int available_cores();

// Sizes the pool; 0 means available_cores(). Call once, from apps/, before any compute.
void configure_compute_threads(int threads);

int compute_threads();

}  // namespace lookalike
