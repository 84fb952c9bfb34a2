// `lookalike worker --redis-url URL`: runs jobs from Redis (the seed's Celery workers). Workers
// write the catalogue only; the server that owns the vector index replays the change log. SIGTERM
// or SIGINT: the running job finishes what is in flight and goes back to the queue.
#include <signal.h>

#include <thread>

#include "apps/commands.h"
#include "apps/data_options.h"
#include "apps/job_worker.h"
#include "apps/model_loading.h"
#include "apps/output.h"
#include "apps/service_options.h"
#include "apps/stores.h"
#include "core/structured_log.h"
#include "image/preprocess_config.h"
#include "jobs/job_queue_factory.h"
#include "search/model_fingerprint.h"

namespace lookalike::apps {

namespace {

struct WorkerOptions {
  DataOptions data;
  ServiceOptions service;
};

int run_worker(const WorkerOptions& options, const GlobalOptions& global) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto preprocess = image::PreprocessConfig::load(options.data.model);
  if (!preprocess) return fail(preprocess.error());
  auto fingerprint = search::model_fingerprint(options.data.model, *preprocess);
  if (!fingerprint) return fail(fingerprint.error());
  auto model = load_model_for_command(options.data.model, global, true, false);
  if (!model) return fail(model.error());
  image::ClipPreprocessor preprocessor(*preprocess);
  StoreOpenOptions store_options{*fingerprint, (*model)->embedding_dim(), false};
  store_options.open_index = false;
  auto stores = open_stores(options.data, store_options);
  if (!stores) return fail(stores.error());
  auto queue = jobs::open_job_queue(options.service.redis_url, job_queue_options(options.service));
  if (!queue) return fail(queue.error().with_context("job queue"));

  const std::string worker_id = make_worker_id("worker");
  JobTargets targets{**model,
                     preprocessor,
                     *fingerprint,
                     *stores->catalog,
                     nullptr,
                     nullptr,
                     images_dir(options.data)};
  std::atomic<bool> stop{false};
  std::thread thread([&] { JobWorker(**queue, targets, worker_id).run(stop); });
  log_event("info", "worker_ready", {{"worker", worker_id}, {"queue", (*queue)->backend_name()}});
  int signal = 0;
  sigwait(&signals, &signal);
  log_event("info", "worker_stopping", {{"worker", worker_id}});
  stop = true;
  thread.join();
  log_event("info", "worker_stopped", {{"worker", worker_id}});
  return kExitOk;
}

}  // namespace

void register_worker_command(CLI::App& app, const GlobalOptions& global, CommandFn& run) {
  auto options = std::make_shared<WorkerOptions>();
  auto* command = app.add_subcommand("worker", "Run ingest and reindex jobs from Redis");
  add_data_options(*command, options->data, true);
  add_service_options(*command, options->service);
  command->callback([&run, &global, options] {
    if (options->service.redis_url.empty()) {
      throw CLI::ValidationError("--redis-url", "a worker needs Redis (LOOKALIKE_REDIS_URL)");
    }
    run = [&global, options] { return run_worker(*options, global); };
  });
}

}  // namespace lookalike::apps
