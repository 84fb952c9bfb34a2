#include "jobs/job.h"

#include <ctime>
#include <random>
#include <utility>

namespace lookalike::jobs {

namespace {

nlohmann::ordered_json text_or_null(const std::string& text) {
  return text.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(text);
}

Error bad_field(const std::string& field, const std::string& expected) {
  return make_error(ErrorCode::kCorruptData, "job JSON: \"" + field + "\" must be " + expected);
}

// A string field that may be null or missing (→ empty).
Status read_optional_text(const nlohmann::json& json, const std::string& field, std::string& out) {
  auto it = json.find(field);
  if (it == json.end() || it->is_null()) return ok_status();
  if (!it->is_string()) return bad_field(field, "a string or null");
  out = it->get<std::string>();
  return ok_status();
}

Status read_required_text(const nlohmann::json& json, const std::string& field, std::string& out) {
  auto it = json.find(field);
  if (it == json.end() || !it->is_string()) return bad_field(field, "a string");
  out = it->get<std::string>();
  return ok_status();
}

}  // namespace

std::string_view job_state_name(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "queued";
    case JobState::kRunning:
      return "running";
    case JobState::kCompleted:
      return "completed";
    case JobState::kFailed:
      return "failed";
  }
  return "queued";
}

Result<JobState> parse_job_state(std::string_view name) {
  for (JobState state :
       {JobState::kQueued, JobState::kRunning, JobState::kCompleted, JobState::kFailed}) {
    if (job_state_name(state) == name) return state;
  }
  return make_error(
      ErrorCode::kInvalidArgument,
      "job state must be queued, running, completed or failed, not \"" + std::string(name) + "\"");
}

std::vector<std::string> cap_job_errors(std::vector<std::string> errors) {
  if (errors.size() > kMaxJobErrors) errors.resize(kMaxJobErrors);
  return errors;
}

nlohmann::ordered_json job_to_json(const Job& job) {
  nlohmann::ordered_json json;
  json["id"] = job.id;
  json["kind"] = job.kind;
  json["state"] = job_state_name(job.state);
  json["params"] = job.params;
  json["progress"] = job.progress;
  json["result"] = job.result;
  json["errors"] = job.errors;
  json["error"] = job.error ? nlohmann::ordered_json(*job.error) : nlohmann::ordered_json();
  json["attempts"] = job.attempts;
  json["worker"] = text_or_null(job.worker);
  json["created_at"] = text_or_null(job.created_at);
  json["started_at"] = text_or_null(job.started_at);
  json["finished_at"] = text_or_null(job.finished_at);
  return json;
}

Result<Job> job_from_json(const nlohmann::json& json) {
  if (!json.is_object()) {
    return make_error(ErrorCode::kCorruptData, "job JSON must be an object");
  }
  Job job;
  if (auto s = read_required_text(json, "id", job.id); !s) return s.error();
  if (auto s = read_required_text(json, "kind", job.kind); !s) return s.error();
  std::string state;
  if (auto s = read_required_text(json, "state", state); !s) return s.error();
  auto parsed = parse_job_state(state);
  if (!parsed) return bad_field("state", "queued, running, completed or failed");
  job.state = *parsed;

  if (auto it = json.find("params"); it != json.end()) job.params = *it;
  if (auto it = json.find("progress"); it != json.end() && !it->is_null()) {
    if (!it->is_object()) return bad_field("progress", "an object");
    job.progress = *it;
  }
  if (auto it = json.find("result"); it != json.end()) job.result = *it;
  if (auto it = json.find("errors"); it != json.end() && !it->is_null()) {
    if (!it->is_array()) return bad_field("errors", "an array of strings");
    for (const auto& item : *it) {
      if (!item.is_string()) return bad_field("errors", "an array of strings");
      job.errors.push_back(item.get<std::string>());
    }
  }
  if (auto it = json.find("error"); it != json.end() && !it->is_null()) {
    if (!it->is_string()) return bad_field("error", "a string or null");
    job.error = it->get<std::string>();
  }
  if (auto it = json.find("attempts"); it != json.end()) {
    if (!it->is_number_integer()) return bad_field("attempts", "an integer");
    job.attempts = it->get<int>();
  }
  if (auto s = read_optional_text(json, "worker", job.worker); !s) return s.error();
  if (auto s = read_optional_text(json, "created_at", job.created_at); !s) return s.error();
  if (auto s = read_optional_text(json, "started_at", job.started_at); !s) return s.error();
  if (auto s = read_optional_text(json, "finished_at", job.finished_at); !s) return s.error();
  return job;
}

std::string new_job_id() {
  thread_local std::mt19937_64 generator = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t bits = generator();
  std::string id = "job_";
  for (int i = 0; i < 16; ++i) {
    id += kHex[(bits >> (60 - 4 * i)) & 0xF];
  }
  return id;
}

std::string iso8601_utc(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

}  // namespace lookalike::jobs
