#include "apps/service_options.h"

namespace lookalike::apps {

void add_service_options(CLI::App& command, ServiceOptions& options) {
  command
      .add_option("--redis-url", options.redis_url,
                  "Redis for the job queue, redis://[:password@]host:port[/db] (default: "
                  "jobs run in-process)")
      ->envname("LOOKALIKE_REDIS_URL");
  command
      .add_option("--job-lease", options.job_lease_s,
                  "Seconds without a heartbeat before a job is given to another worker "
                  "(default 15; workers heartbeat every second)")
      ->envname("LOOKALIKE_JOB_LEASE")
      ->check(CLI::Range(2.0, 3600.0));
}

jobs::JobQueueOptions job_queue_options(const ServiceOptions& options) {
  jobs::JobQueueOptions queue;
  queue.lease = std::chrono::milliseconds(static_cast<std::int64_t>(options.job_lease_s * 1000));
  return queue;
}

}  // namespace lookalike::apps
