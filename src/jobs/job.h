// Job: one unit of background work (an ingest or a reindex) as the job queue stores it and as the
// API shows it (JOB in docs/API.md), with its JSON form and the small helpers both queue backends
// share (ids, timestamps, the cap on kept errors).
// Thread-safety: plain values and pure functions; new_job_id() may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace lookalike::jobs {

enum class JobState { kQueued, kRunning, kCompleted, kFailed };

// "queued" "running" "completed" "failed"
std::string_view job_state_name(JobState state);
// The inverse of job_state_name; kInvalidArgument for anything else.
Result<JobState> parse_job_state(std::string_view name);
// completed or failed: the job will not change any more.
inline bool is_finished(JobState state) {
  return state == JobState::kCompleted || state == JobState::kFailed;
}

struct Job {
  std::string id;    // "job_" + 16 random lowercase hex
  std::string kind;  // "ingest" | "reindex" (the queue does not interpret it)
  nlohmann::json params = nlohmann::json::object();
  JobState state = JobState::kQueued;
  nlohmann::json progress = nlohmann::json::object();  // counts the runner reports
  nlohmann::json result = nullptr;                     // set on completion
  std::vector<std::string> errors;                     // per-item errors, the first 100 kept
  std::optional<std::string> error;                    // why it failed
  int attempts = 0;                                    // times claimed
  std::string worker;                                  // current/last worker id
  // ISO 8601 UTC ("2026-11-24T10:00:00Z"), empty if not yet. started_at is the latest claim's;
  // a job put back in the queue (lease lost, release) keeps its last started_at and worker.
  std::string created_at, started_at, finished_at;
};

// At most this many per-item errors are kept on a job (the first ones).
inline constexpr std::size_t kMaxJobErrors = 100;
// `errors` without the ones past kMaxJobErrors.
std::vector<std::string> cap_job_errors(std::vector<std::string> errors);

// The JOB shape of docs/API.md, keys in its order: empty timestamps and an empty worker are null,
// `error` is null when there is none.
nlohmann::ordered_json job_to_json(const Job& job);
// The inverse of job_to_json (used for storage and by API clients): kCorruptData naming the field
// when a field is missing or of the wrong type.
Result<Job> job_from_json(const nlohmann::json& json);

struct JobPage {
  std::vector<Job> items;
  std::int64_t total = 0;
};

// "job_" + 16 random lowercase hex digits (64 bits from a per-thread generator seeded from
// std::random_device).
std::string new_job_id();
// "2026-11-24T10:00:00Z" (whole seconds, UTC).
std::string iso8601_utc(std::chrono::system_clock::time_point time);
inline std::string iso8601_utc_now() { return iso8601_utc(std::chrono::system_clock::now()); }

}  // namespace lookalike::jobs
