// RedisJobQueue: the job queue shared by the API server and `lookalike worker` processes through
// one Redis server. Keys (P = options.key_prefix):
//   P job:<id>              hash: id kind params state progress result errors [error] attempts
//                           worker created_at started_at finished_at seq (JSON fields as JSON text)
//   P jobs:queue            list of queued ids, claimed from the left (FIFO; re-queued ids go left)
//   P jobs:running          sorted set id → lease expiry (Redis server TIME, ms)
//   P jobs:all              sorted set id → creation sequence (list, total)
//   P jobs:state:<state>    sorted set id → creation sequence, per state (filtered list, total)
//   P jobs:finished         sorted set id → finish sequence (trimming to keep_finished)
//   P jobs:finished_events  list of finished ids not yet taken (capped at keep_finished)
//   P jobs:seq              counter behind both sequences
// Every transition (submit, claim with lease recovery, heartbeat, finish, release, taking events)
// is one Lua script, so two workers never get the same job and a stale worker is refused. The job
// is a hash rather than one JSON string so that scripts never decode JSON (Lua's cjson turns []
// into {} and rounds numbers); timestamps shown to users come from the caller's clock, leases from
// the server's. Needs Redis 4.0 or later, one instance (not Redis Cluster: scripts build their key
// names).
// Thread-safety: any thread, any number of processes; one connection per queue (serialised).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "jobs/job_queue.h"
#include "jobs/redis/redis_connection.h"

namespace lookalike::jobs {

class RedisJobQueue final : public JobQueue {
 public:
  // `options` must be valid (validate_job_queue_options).
  RedisJobQueue(std::unique_ptr<RedisConnection> connection, JobQueueOptions options);

  std::string backend_name() const override { return "redis"; }
  Result<Job> submit(const std::string& kind, const nlohmann::json& params) override;
  Result<Job> get(const std::string& id) const override;
  Result<JobPage> list(std::int64_t offset, std::int64_t limit,
                       std::optional<JobState> state) const override;
  Result<std::optional<Job>> claim(const std::string& worker_id,
                                   std::chrono::milliseconds wait) override;
  Status heartbeat(const std::string& id, const std::string& worker_id,
                   const nlohmann::json& progress, const std::vector<std::string>& errors) override;
  Status finish(const std::string& id, const std::string& worker_id, JobState state,
                const nlohmann::json& result, const std::optional<std::string>& error,
                const std::vector<std::string>& errors) override;
  Status release(const std::string& id, const std::string& worker_id) override;
  Result<std::vector<Job>> take_finished_events(int max) override;
  Status ping() const override;

 private:
  // EVAL of `script` (the shared prelude prepended) with ARGV = key_prefix, args...
  Result<RedisValue> eval(const std::string& script, std::vector<std::string> args) const;
  // The reply of an ownership-checked script: ok, kNotFound or kFailedPrecondition.
  Status owned_reply(const Result<RedisValue>& reply, const std::string& id,
                     const std::string& worker_id) const;

  std::unique_ptr<RedisConnection> connection_;
  const JobQueueOptions options_;
};

}  // namespace lookalike::jobs
