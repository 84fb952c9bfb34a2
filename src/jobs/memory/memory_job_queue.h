// MemoryJobQueue: the in-process job queue used when no --redis-url is given: jobs live in this
// process only and are lost when it exits. Leases follow the steady clock; a claim waiting for a
// job also wakes when a running job's lease expires, to recover it.
// Thread-safety: one mutex guards everything; claim() waits on a condition variable without
// holding it. The queue owns its jobs; callers get copies.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "jobs/job_queue.h"

namespace lookalike::jobs {

class MemoryJobQueue final : public JobQueue {
 public:
  // `options` must be valid (validate_job_queue_options); key_prefix is not used.
  explicit MemoryJobQueue(JobQueueOptions options);

  std::string backend_name() const override { return "memory"; }
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
  Status ping() const override { return ok_status(); }

 private:
  using Clock = std::chrono::steady_clock;

  struct Entry {
    Job job;
    std::uint64_t seq = 0;  // creation order
  };

  // The running entry `id` owned by worker_id, or kNotFound / kFailedPrecondition.
  Result<Entry*> owned_locked(const std::string& id, const std::string& worker_id);
  // Re-queues or fails every running job whose lease has expired; true if any was re-queued.
  bool recover_expired_locked(Clock::time_point now);
  // Bookkeeping once `entry` reached completed/failed: event, trimming of old finished jobs.
  void finished_locked(Entry& entry);

  const JobQueueOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable queued_;  // signalled when a job enters the queue
  std::uint64_t next_seq_ = 0;
  std::unordered_map<std::string, Entry> jobs_;
  std::map<std::uint64_t, std::string> by_creation_;  // seq → id, every job
  std::deque<std::string> queue_;                     // queued ids, front first
  std::map<std::string, Clock::time_point> running_;  // running id → lease expiry
  std::deque<std::string> finished_;                  // finished ids, oldest first
  std::deque<std::string> events_;                    // finished ids not yet taken, oldest first
};

}  // namespace lookalike::jobs
