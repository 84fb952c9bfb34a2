// JobQueue: the queue behind POST /api/v1/jobs/*. The API submits jobs; workers (threads of the
// server, or `lookalike worker` processes with Redis) claim them under a lease, report progress
// with heartbeats and finish them. A job whose worker stops heartbeating is handed to another one.
// Backends: memory/ (one process) and redis/ (shared by processes); open_job_queue picks one.
//
// Thread-safety: every method may be called concurrently from any thread; the Redis backend also
// across processes (every state transition is one atomic server-side script). Errors are values:
// kNotFound for unknown ids, kFailedPrecondition when a worker no longer owns its job, kNetwork
// when Redis does not answer.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "jobs/job.h"

namespace lookalike::jobs {

struct JobQueueOptions {
  // How long a claim or a heartbeat keeps a job owned; a job not heartbeated for this long is
  // taken to have lost its worker.
  std::chrono::milliseconds lease{15000};
  // Claims before a job whose worker is lost fails ("worker lost N times") instead of re-queueing.
  int max_attempts = 3;
  std::string key_prefix = "lookalike:";  // Redis keys
  std::int64_t keep_finished = 1000;      // finished jobs kept (older ones dropped), at least 1
};

class JobQueue {
 public:
  virtual ~JobQueue() = default;

  // "memory" | "redis"
  virtual std::string backend_name() const = 0;

  // --- API side -------------------------------------------------------------------------------
  // A new queued job at the back of the queue (created_at now, attempts 0).
  virtual Result<Job> submit(const std::string& kind, const nlohmann::json& params) = 0;
  virtual Result<Job> get(const std::string& id) const = 0;  // kNotFound
  // Newest first (creation order); `state` filters; total counts the matching jobs. Negative
  // offset or limit: kInvalidArgument.
  virtual Result<JobPage> list(std::int64_t offset, std::int64_t limit,
                               std::optional<JobState> state) const = 0;

  // --- worker side ----------------------------------------------------------------------------
  // Waits up to `wait` for a queued job (FIFO), marks it running, owned by worker_id with a lease
  // of options.lease, attempts+1, started_at set. Before claiming it also recovers jobs whose
  // lease expired (their worker died): back to the FRONT of the queue if attempts <
  // max_attempts, else failed with error "worker lost N times" (N = attempts). nullopt on timeout.
  virtual Result<std::optional<Job>> claim(const std::string& worker_id,
                                           std::chrono::milliseconds wait) = 0;
  // Renews the lease and stores progress and the errors so far (the first kMaxJobErrors kept).
  // kFailedPrecondition when the job is no longer running under worker_id (lease lost and the job
  // re-queued or reassigned): the worker must then abandon it. kNotFound for an unknown id.
  virtual Status heartbeat(const std::string& id, const std::string& worker_id,
                           const nlohmann::json& progress,
                           const std::vector<std::string>& errors) = 0;
  // Final state kCompleted or kFailed (anything else: kInvalidArgument) with result / error /
  // errors; finished_at set; the job is then reported once by take_finished_events.
  // kFailedPrecondition when not running under worker_id.
  virtual Status finish(const std::string& id, const std::string& worker_id, JobState state,
                        const nlohmann::json& result, const std::optional<std::string>& error,
                        const std::vector<std::string>& errors) = 0;
  // Graceful stop of a worker: the job goes back to the FRONT of the queue at once, state queued.
  // attempts is left as it is (it counts claims, and this claim happened), progress and errors
  // stay. kFailedPrecondition when not running under worker_id.
  virtual Status release(const std::string& id, const std::string& worker_id) = 0;

  // Jobs that reached completed/failed and were not yet returned by this method to ANY caller
  // (across processes for Redis), oldest first, at most `max`: each finished job is returned
  // exactly once (for the job.completed / job.failed webhooks). At most keep_finished events wait;
  // when nobody takes them, the oldest are dropped.
  virtual Result<std::vector<Job>> take_finished_events(int max) = 0;

  // Readiness: kNetwork when Redis does not answer.
  virtual Status ping() const = 0;
};

}  // namespace lookalike::jobs
