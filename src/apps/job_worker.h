// JobWorker: takes jobs from a JobQueue and runs them — ingest (the pipeline) and reindex
// (re-embed what is missing, rebuild the index if this process owns it) — heartbeating progress
// while they run. Used in-process by `lookalike serve` (no Redis) and by `lookalike worker`.
// On stop, a running ingestion finishes what is in flight and the job goes back to the queue, so
// another worker (or the next start) resumes it; re-runs skip what was already ingested.
// Thread-safety: run() on one thread; everything borrowed outlives it.
#pragma once

#include <atomic>
#include <string>

#include "catalog/catalog.h"
#include "clip/clip_model.h"
#include "image/clip_preprocessor.h"
#include "index/vector_index.h"
#include "jobs/job_queue.h"
#include "search/index_sync.h"

namespace lookalike::apps {

struct JobTargets {
  const clip::ClipModel& model;
  const image::ClipPreprocessor& preprocessor;
  std::string fingerprint;
  catalog::Catalog& catalog;
  index::VectorIndex* index = nullptr;  // null in a worker process: the server owns the index
  search::IndexSync* sync = nullptr;
  std::string images_dir;
};

class JobWorker {
 public:
  JobWorker(jobs::JobQueue& queue, JobTargets targets, std::string worker_id);

  // Claims and runs jobs until `stop` is set.
  void run(const std::atomic<bool>& stop);

 private:
  struct Outcome {
    nlohmann::json result;
    std::vector<std::string> errors;
  };
  void execute(const jobs::Job& job, const std::atomic<bool>& stop);
  Result<Outcome> run_ingest(const jobs::Job& job, const std::atomic<bool>& stop,
                             const std::function<void(nlohmann::json)>& progress);
  Result<Outcome> run_reindex(const jobs::Job& job, const std::atomic<bool>& stop,
                              const std::function<void(nlohmann::json)>& progress);

  jobs::JobQueue& queue_;
  JobTargets targets_;
  std::string worker_id_;
};

// "<hostname>:<pid>" plus a suffix, unique enough to tell workers apart in job records.
std::string make_worker_id(const std::string& suffix);

}  // namespace lookalike::apps
