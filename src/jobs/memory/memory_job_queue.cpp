#include "jobs/memory/memory_job_queue.h"

#include <algorithm>
#include <utility>

namespace lookalike::jobs {

namespace {

Error not_found(const std::string& id) {
  return make_error(ErrorCode::kNotFound, "no job \"" + id + "\"");
}

}  // namespace

MemoryJobQueue::MemoryJobQueue(JobQueueOptions options) : options_(std::move(options)) {}

Result<Job> MemoryJobQueue::submit(const std::string& kind, const nlohmann::json& params) {
  Job job;
  job.kind = kind;
  job.params = params;
  job.created_at = iso8601_utc_now();
  {
    std::lock_guard lock(mutex_);
    do {
      job.id = new_job_id();
    } while (jobs_.contains(job.id));
    const std::uint64_t seq = next_seq_++;
    jobs_.emplace(job.id, Entry{job, seq});
    by_creation_.emplace(seq, job.id);
    queue_.push_back(job.id);
  }
  queued_.notify_one();
  return job;
}

Result<Job> MemoryJobQueue::get(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return not_found(id);
  return it->second.job;
}

Result<JobPage> MemoryJobQueue::list(std::int64_t offset, std::int64_t limit,
                                     std::optional<JobState> state) const {
  if (offset < 0 || limit < 0) {
    return make_error(ErrorCode::kInvalidArgument, "offset and limit must not be negative");
  }
  JobPage page;
  std::lock_guard lock(mutex_);
  for (auto it = by_creation_.rbegin(); it != by_creation_.rend(); ++it) {
    const Job& job = jobs_.at(it->second).job;
    if (state && job.state != *state) continue;
    if (page.total >= offset && page.total - offset < limit) page.items.push_back(job);
    ++page.total;
  }
  return page;
}

bool MemoryJobQueue::recover_expired_locked(Clock::time_point now) {
  bool requeued = false;
  for (auto it = running_.begin(); it != running_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    Entry& entry = jobs_.at(it->first);
    it = running_.erase(it);
    if (entry.job.attempts < options_.max_attempts) {
      entry.job.state = JobState::kQueued;
      queue_.push_front(entry.job.id);
      requeued = true;
    } else {
      entry.job.state = JobState::kFailed;
      entry.job.error = "worker lost " + std::to_string(entry.job.attempts) + " times";
      entry.job.finished_at = iso8601_utc_now();
      finished_locked(entry);
    }
  }
  return requeued;
}

Result<std::optional<Job>> MemoryJobQueue::claim(const std::string& worker_id,
                                                 std::chrono::milliseconds wait) {
  // Clamped so that a huge `wait` cannot overflow the clock.
  const auto deadline =
      Clock::now() + std::clamp<std::chrono::milliseconds>(wait, std::chrono::milliseconds(0),
                                                           std::chrono::hours(24));
  std::unique_lock lock(mutex_);
  while (true) {
    const auto now = Clock::now();
    // Others waiting may take the jobs this call puts back beyond the one it takes.
    if (recover_expired_locked(now)) queued_.notify_all();
    if (!queue_.empty()) {
      Entry& entry = jobs_.at(queue_.front());
      queue_.pop_front();
      entry.job.state = JobState::kRunning;
      entry.job.worker = worker_id;
      entry.job.attempts += 1;
      entry.job.started_at = iso8601_utc_now();
      running_[entry.job.id] = now + options_.lease;
      return std::optional<Job>(entry.job);
    }
    if (now >= deadline) return std::optional<Job>();
    // Wake at the deadline or when the next lease expires, whichever comes first.
    auto wake = deadline;
    for (const auto& [id, expiry] : running_) wake = std::min(wake, expiry);
    queued_.wait_until(lock, wake);
  }
}

Result<MemoryJobQueue::Entry*> MemoryJobQueue::owned_locked(const std::string& id,
                                                            const std::string& worker_id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return not_found(id);
  Entry& entry = it->second;
  if (entry.job.state != JobState::kRunning || entry.job.worker != worker_id) {
    return make_error(
        ErrorCode::kFailedPrecondition,
        "job " + id + " is no longer running under worker \"" + worker_id + "\" (it is " +
            std::string(job_state_name(entry.job.state)) +
            (entry.job.worker.empty() ? "" : ", worker \"" + entry.job.worker + "\"") + ")");
  }
  return &entry;
}

Status MemoryJobQueue::heartbeat(const std::string& id, const std::string& worker_id,
                                 const nlohmann::json& progress,
                                 const std::vector<std::string>& errors) {
  std::lock_guard lock(mutex_);
  auto entry = owned_locked(id, worker_id);
  if (!entry) return entry.error();
  (*entry)->job.progress = progress;
  (*entry)->job.errors = cap_job_errors(errors);
  running_[id] = Clock::now() + options_.lease;
  return ok_status();
}

Status MemoryJobQueue::finish(const std::string& id, const std::string& worker_id, JobState state,
                              const nlohmann::json& result, const std::optional<std::string>& error,
                              const std::vector<std::string>& errors) {
  if (!is_finished(state)) {
    return make_error(ErrorCode::kInvalidArgument, "a job finishes as completed or failed, not " +
                                                       std::string(job_state_name(state)));
  }
  std::lock_guard lock(mutex_);
  auto owned = owned_locked(id, worker_id);
  if (!owned) return owned.error();
  Entry& entry = **owned;
  running_.erase(id);
  entry.job.state = state;
  entry.job.result = result;
  entry.job.error = error;
  entry.job.errors = cap_job_errors(errors);
  entry.job.finished_at = iso8601_utc_now();
  finished_locked(entry);
  return ok_status();
}

Status MemoryJobQueue::release(const std::string& id, const std::string& worker_id) {
  {
    std::lock_guard lock(mutex_);
    auto owned = owned_locked(id, worker_id);
    if (!owned) return owned.error();
    running_.erase(id);
    (*owned)->job.state = JobState::kQueued;
    queue_.push_front(id);
  }
  queued_.notify_one();
  return ok_status();
}

void MemoryJobQueue::finished_locked(Entry& entry) {
  finished_.push_back(entry.job.id);
  events_.push_back(entry.job.id);
  const auto keep = static_cast<std::size_t>(options_.keep_finished);
  while (events_.size() > keep) events_.pop_front();
  while (finished_.size() > keep) {
    // Events are a suffix of the finish order no longer than keep_finished: none refers to a
    // job dropped here.
    auto old = jobs_.find(finished_.front());
    finished_.pop_front();
    by_creation_.erase(old->second.seq);
    jobs_.erase(old);
  }
}

Result<std::vector<Job>> MemoryJobQueue::take_finished_events(int max) {
  std::vector<Job> taken;
  std::lock_guard lock(mutex_);
  while (!events_.empty() && static_cast<int>(taken.size()) < max) {
    auto it = jobs_.find(events_.front());
    events_.pop_front();
    if (it != jobs_.end()) taken.push_back(it->second.job);
  }
  return taken;
}

}  // namespace lookalike::jobs
