// Options `lookalike serve` and `lookalike worker` share: where the job queue lives.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "jobs/job_queue.h"

namespace lookalike::apps {

struct ServiceOptions {
  std::string redis_url;    // empty: jobs run in the serving process
  double job_lease_s = 15;  // a job not heartbeated this long is handed to another worker
};

// --redis-url (LOOKALIKE_REDIS_URL), --job-lease (LOOKALIKE_JOB_LEASE).
void add_service_options(CLI::App& command, ServiceOptions& options);

jobs::JobQueueOptions job_queue_options(const ServiceOptions& options);

}  // namespace lookalike::apps
