#include "apps/job_worker.h"

#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "apps/ingest_runner.h"
#include "apps/re_embedder.h"
#include "core/structured_log.h"

namespace lookalike::apps {

namespace {

// Progress shared between the job's thread and its heartbeat thread.
class Heartbeat {
 public:
  Heartbeat(jobs::JobQueue& queue, std::string job_id, std::string worker_id,
            std::atomic<bool>& lost)
      : queue_(queue), job_id_(std::move(job_id)), worker_id_(std::move(worker_id)), lost_(lost) {
    thread_ = std::thread([this] { loop(); });
  }
  ~Heartbeat() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  void set_progress(nlohmann::json progress) {
    std::lock_guard lock(mutex_);
    progress_ = std::move(progress);
  }
  // Stores the latest progress now, so that a finished job shows the counts of its end rather
  // than those of the last periodic heartbeat (none at all for a job shorter than a second).
  void flush() {
    nlohmann::json progress;
    {
      std::lock_guard lock(mutex_);
      progress = progress_;
    }
    (void)queue_.heartbeat(job_id_, worker_id_, progress, {});
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (!done_) {
      wake_.wait_for(lock, std::chrono::seconds(1));
      if (done_) break;
      auto progress = progress_;
      lock.unlock();
      auto status = queue_.heartbeat(job_id_, worker_id_, progress, {});
      if (!status && status.error().code == ErrorCode::kFailedPrecondition) {
        // Another worker has it now (this one was presumed dead): stop working on it.
        lost_ = true;
      }
      lock.lock();
    }
  }

  jobs::JobQueue& queue_;
  std::string job_id_;
  std::string worker_id_;
  std::atomic<bool>& lost_;
  std::mutex mutex_;
  std::condition_variable wake_;
  nlohmann::json progress_ = nlohmann::json::object();
  bool done_ = false;
  std::thread thread_;
};

std::string string_param(const nlohmann::json& params, const char* key, std::string fallback) {
  return params.contains(key) && params[key].is_string() ? params[key].get<std::string>()
                                                         : fallback;
}

}  // namespace

std::string make_worker_id(const std::string& suffix) {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid()) +
         (suffix.empty() ? "" : ":" + suffix);
}

JobWorker::JobWorker(jobs::JobQueue& queue, JobTargets targets, std::string worker_id)
    : queue_(queue), targets_(std::move(targets)), worker_id_(std::move(worker_id)) {}

void JobWorker::run(const std::atomic<bool>& stop) {
  while (!stop) {
    auto job = queue_.claim(worker_id_, std::chrono::milliseconds(500));
    if (!job) {
      log_event("warn", "job_claim_failed",
                {{"worker", worker_id_}, {"error", job.error().message}});
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    if (*job) execute(**job, stop);
  }
}

void JobWorker::execute(const jobs::Job& job, const std::atomic<bool>& stop) {
  log_event(
      "info", "job_started",
      {{"job", job.id}, {"kind", job.kind}, {"worker", worker_id_}, {"attempt", job.attempts}});
  std::atomic<bool> lost{false};
  std::atomic<bool> halt{false};
  Result<Outcome> outcome = make_error(ErrorCode::kInternal, "not run");
  {
    Heartbeat heartbeat(queue_, job.id, worker_id_, lost);
    // The job stops when the process stops or when its lease was lost.
    std::thread watcher([&] {
      while (!halt) {
        if (stop || lost) {
          halt = true;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
    auto progress = [&](nlohmann::json value) { heartbeat.set_progress(std::move(value)); };
    try {
      if (job.kind == "ingest") {
        outcome = run_ingest(job, halt, progress);
      } else if (job.kind == "reindex") {
        outcome = run_reindex(job, halt, progress);
      } else {
        outcome = make_error(ErrorCode::kInvalidArgument, "unknown job kind \"" + job.kind + "\"");
      }
    } catch (const std::exception& e) {
      outcome = make_error(ErrorCode::kInternal, std::string("job crashed: ") + e.what());
    }
    bool stopped = halt.exchange(true);
    watcher.join();
    if (stopped) {
      if (!lost) (void)queue_.release(job.id, worker_id_);
      log_event("info", lost ? "job_lost" : "job_released",
                {{"job", job.id}, {"worker", worker_id_}});
      return;
    }
    heartbeat.flush();
  }
  jobs::JobState state = outcome ? jobs::JobState::kCompleted : jobs::JobState::kFailed;
  auto status =
      outcome
          ? queue_.finish(job.id, worker_id_, state, outcome->result, std::nullopt, outcome->errors)
          : queue_.finish(job.id, worker_id_, state, nullptr, outcome.error().to_string(), {});
  if (!status) {
    log_event("warn", "job_finish_refused", {{"job", job.id}, {"error", status.error().message}});
  }
  log_event(outcome ? "info" : "error", "job_finished",
            {{"job", job.id},
             {"state", jobs::job_state_name(state)},
             {"error", outcome ? "" : outcome.error().to_string()}});
}

Result<JobWorker::Outcome> JobWorker::run_ingest(
    const jobs::Job& job, const std::atomic<bool>& stop,
    const std::function<void(nlohmann::json)>& progress) {
  const auto& params = job.params;
  IngestRequest request;
  request.source = string_param(params, "source", "");
  request.id_prefix = string_param(params, "id_prefix", "");
  request.s3_endpoint = string_param(params, "s3_endpoint", "");
  request.s3_region = string_param(params, "s3_region", request.s3_region);
  if (params.contains("concurrency")) request.concurrency = params["concurrency"].get<int>();
  if (params.contains("batch")) request.batch = params["batch"].get<int>();
  if (params.contains("max_image_mb")) request.max_image_mb = params["max_image_mb"].get<double>();
  IngestTargets targets{targets_.model,     targets_.preprocessor, targets_.fingerprint,
                        targets_.catalog,   targets_.index,        targets_.sync,
                        targets_.images_dir};
  ingest::IngestReport report;
  auto summary = run_ingest_request(
      request, targets, report, &stop,
      [&](const ingest::IngestProgress& p) { progress(nlohmann::json(ingest_progress_json(p))); });
  if (!summary) return summary.error();
  if (summary->stopped) return make_error(ErrorCode::kCancelled, "stopped");
  auto stats = targets_.catalog.stats();
  if (!stats) return stats.error();
  return Outcome{nlohmann::json(ingest_summary_json(*summary, *stats)), report.failures()};
}

Result<JobWorker::Outcome> JobWorker::run_reindex(
    const jobs::Job& job, const std::atomic<bool>& stop,
    const std::function<void(nlohmann::json)>& progress) {
  Outcome outcome;
  ReEmbedCounts counts;
  bool re_embed = job.params.contains("re_embed") && job.params["re_embed"].is_boolean() &&
                  job.params["re_embed"].get<bool>();
  if (re_embed) {
    ReEmbedCallbacks callbacks;
    callbacks.progress = [&](const ReEmbedCounts& c) {
      progress({{"re_embedded", c.embedded}, {"failed", c.failed}});
    };
    callbacks.failed = [&](const std::string& path, const Error& error) {
      if (outcome.errors.size() < 100) outcome.errors.push_back(path + ": " + error.message);
    };
    auto result = re_embed_missing(targets_.model, targets_.preprocessor, targets_.catalog,
                                   targets_.fingerprint, targets_.images_dir, 16, callbacks, &stop);
    if (!result) return result.error();
    if (stop) return make_error(ErrorCode::kCancelled, "stopped");
    counts = *result;
  }
  outcome.result = {{"re_embedded", counts.embedded}, {"failed", counts.failed}};
  if (targets_.sync == nullptr) {
    // This process does not own the index: the server applies the new vectors from the change
    // log within a second; a rebuild from scratch is only possible there.
    outcome.result["rebuilt"] = false;
    return outcome;
  }
  auto rebuilt = targets_.sync->rebuild([&](std::int64_t done) {
    progress({{"re_embedded", counts.embedded}, {"indexed", done}});
  });
  if (!rebuilt) return rebuilt.error();
  outcome.result["rebuilt"] = true;
  outcome.result["vectors"] = rebuilt->upserted;
  return outcome;
}

}  // namespace lookalike::apps
