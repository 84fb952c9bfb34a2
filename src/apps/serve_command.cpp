// `lookalike serve`: the HTTP API. It listens at once (liveness), loads the model and opens the
// stores (readiness), then runs until SIGTERM/SIGINT: the index follows the catalogue's change
// log (so workers' writes become searchable within a second), finished jobs are announced to
// webhooks, and without Redis jobs run in-process. Shutdown: stop accepting, finish in-flight
// requests, hand a running job back, catch the index up and flush it, stop webhook deliveries.
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>

#include "api/api_server.h"
#include "apps/commands.h"
#include "apps/data_options.h"
#include "apps/job_worker.h"
#include "apps/model_loading.h"
#include "apps/output.h"
#include "apps/service_options.h"
#include "apps/stores.h"
#include "core/structured_log.h"
#include "image/preprocess_config.h"
#include "ingest/image_store.h"
#include "jobs/job.h"
#include "jobs/job_queue_factory.h"
#include "search/model_fingerprint.h"
#include "webhooks/webhook_dispatcher.h"
#include "webhooks/webhook_registry.h"

namespace lookalike::apps {

namespace {

namespace fs = std::filesystem;

struct ServeOptions {
  DataOptions data;
  ServiceOptions service;
  api::ApiConfig api;
  double max_upload_mb = 20;
  std::string cors_origins;
  int text_cache = 10000;
};

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) {
    auto first = item.find_first_not_of(' ');
    auto last = item.find_last_not_of(' ');
    if (first != std::string::npos) items.push_back(item.substr(first, last - first + 1));
  }
  return items;
}

// Everything the API serves from, owned here for the server's lifetime.
struct ServeState {
  std::unique_ptr<clip::ClipModel> model;
  std::unique_ptr<image::ClipPreprocessor> preprocessor;
  std::string fingerprint;
  Stores stores;
  std::unique_ptr<jobs::JobQueue> queue;
  std::unique_ptr<WebhookRegistry> webhooks;
  std::unique_ptr<WebhookDispatcher> dispatcher;
  std::unique_ptr<api::EmbeddingBatcher> embedder;
  std::unique_ptr<search::ProductSearcher> searcher;
  std::unique_ptr<ingest::ImageStore> images;
};

Result<std::unique_ptr<ServeState>> load_state(const ServeOptions& options,
                                               const GlobalOptions& global,
                                               MetricsRegistry& metrics) {
  auto state = std::make_unique<ServeState>();
  auto preprocess = image::PreprocessConfig::load(options.data.model);
  if (!preprocess) return preprocess.error();
  auto fingerprint = search::model_fingerprint(options.data.model, *preprocess);
  if (!fingerprint) return fingerprint.error();
  state->fingerprint = *fingerprint;
  auto model = load_model_for_command(options.data.model, global, true, true);
  if (!model) return model.error();
  state->model = std::move(*model);
  state->preprocessor = std::make_unique<image::ClipPreprocessor>(*preprocess);
  auto stores =
      open_stores(options.data, {state->fingerprint, state->model->embedding_dim(), true});
  if (!stores) return stores.error();
  state->stores = std::move(*stores);
  auto queue = jobs::open_job_queue(options.service.redis_url, job_queue_options(options.service));
  if (!queue) return queue.error().with_context("job queue");
  state->queue = std::move(*queue);
  auto webhooks = WebhookRegistry::open(fs::path(options.data.data_dir) / "webhooks.json");
  if (!webhooks) return webhooks.error();
  state->webhooks = std::move(*webhooks);
  DispatcherOptions dispatcher_options;
  dispatcher_options.allow_private = options.api.webhook_allow_private;
  state->dispatcher =
      std::make_unique<WebhookDispatcher>(*state->webhooks, dispatcher_options, &metrics);
  api::BatcherOptions batcher;
  batcher.text_cache_entries = static_cast<std::size_t>(options.text_cache);
  batcher.limits.max_bytes = options.api.max_upload_bytes;
  state->embedder = std::make_unique<api::EmbeddingBatcher>(*state->model, *state->preprocessor,
                                                            batcher, &metrics);
  state->searcher = std::make_unique<search::ProductSearcher>(
      state->model.get(), state->preprocessor.get(), batcher.limits, *state->stores.catalog,
      *state->stores.index);
  state->images = std::make_unique<ingest::ImageStore>(images_dir(options.data));
  return state;
}

void register_gauges(MetricsRegistry& metrics, ServeState& state) {
  metrics.gauge_callback("lookalike_index_vectors", "Vectors in the index", {}, [&state] {
    auto info = state.stores.index->info();
    return info ? static_cast<double>(info->points) : -1.0;
  });
  metrics.gauge_callback("lookalike_catalog_products", "Products in the catalogue", {}, [&state] {
    auto stats = state.stores.catalog->stats();
    return stats ? static_cast<double>(stats->products) : -1.0;
  });
}

// Sleeps up to `duration`, waking early when `stop` is set.
void nap(const std::atomic<bool>& stop, std::chrono::milliseconds duration) {
  auto until = std::chrono::steady_clock::now() + duration;
  while (!stop && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Applies catalogue changes made by other processes (workers, `lookalike ingest`) to the index,
// and persists the embedded index now and then.
void follow_catalogue(ServeState& state, const std::atomic<bool>& stop) {
  auto last_flush = std::chrono::steady_clock::now();
  std::string last_error;
  while (!stop) {
    nap(stop, std::chrono::milliseconds(500));
    auto synced = state.stores.sync->catch_up();
    if (!synced && synced.error().message != last_error) {
      last_error = synced.error().message;
      log_event("warn", "index_catch_up_failed", {{"error", last_error}});
    } else if (synced) {
      last_error.clear();
      if (synced->upserted + synced->removed > 0) {
        log_event("info", "index_caught_up",
                  {{"upserted", synced->upserted}, {"removed", synced->removed}});
      }
    }
    if (std::chrono::steady_clock::now() - last_flush > std::chrono::seconds(60)) {
      if (auto status = state.stores.index->flush(); !status) {
        log_event("warn", "index_flush_failed", {{"error", status.error().message}});
      }
      last_flush = std::chrono::steady_clock::now();
    }
  }
}

// Job and ingestion counters, counted here (where every finished job is seen once, whichever
// process ran it) rather than in the workers, which have no /metrics.
void count_finished_job(MetricsRegistry& metrics, const jobs::Job& job) {
  metrics
      .counter("lookalike_jobs_total", "Jobs finished, by kind and final state",
               {{"kind", job.kind}, {"state", std::string(jobs::job_state_name(job.state))}})
      .inc();
  if (job.kind != "ingest" || !job.result.is_object()) return;
  for (const char* outcome : {"ingested", "skipped", "failed"}) {
    if (!job.result.contains(outcome) || !job.result[outcome].is_number()) continue;
    metrics
        .counter("lookalike_ingest_products_total", "Products seen by ingest jobs, by outcome",
                 {{"outcome", outcome}})
        .inc(job.result[outcome].get<double>());
  }
}

// job.completed / job.failed webhooks, each finished job announced once across all servers.
void announce_finished_jobs(ServeState& state, MetricsRegistry& metrics,
                            const std::atomic<bool>& stop) {
  while (!stop) {
    nap(stop, std::chrono::milliseconds(500));
    auto finished = state.queue->take_finished_events(100);
    if (!finished) continue;
    for (const auto& job : *finished) {
      count_finished_job(metrics, job);
      state.dispatcher->publish(
          job.state == jobs::JobState::kCompleted ? "job.completed" : "job.failed",
          nlohmann::json(jobs::job_to_json(job)));
    }
  }
}

int run_serve(ServeOptions options, const GlobalOptions& global) {
  // Signals are taken by sigwait in this thread only: every thread started below inherits the
  // blocked mask, so no handler ever runs in a request thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  options.api.max_upload_bytes = static_cast<std::size_t>(options.max_upload_mb * (1 << 20));
  options.api.cors_origins = split_commas(options.cors_origins);
  if (const char* key = std::getenv("LOOKALIKE_ADMIN_API_KEY")) options.api.admin_api_key = key;
  if (const char* key = std::getenv("LOOKALIKE_SEARCH_API_KEY")) options.api.search_api_key = key;
  if (options.api.ingest_root.empty()) {
    options.api.ingest_root = (fs::path(options.data.data_dir) / "imports").string();
  }
  MetricsRegistry metrics;
  api::ApiServer server(options.api, metrics);
  if (auto status = server.start(); !status) return fail(status.error());
  log_event(
      "info", "listening",
      {{"host", options.api.host},
       {"port", options.api.port},
       {"writes", options.api.admin_api_key.empty() ? "disabled (no admin key)" : "enabled"}});

  auto loaded = load_state(options, global, metrics);
  if (!loaded) {
    server.stop();
    return fail(loaded.error());
  }
  ServeState& state = **loaded;
  register_gauges(metrics, state);
  api::ApiServices services;
  services.catalog = state.stores.catalog.get();
  services.index = state.stores.index.get();
  services.sync = state.stores.sync.get();
  services.searcher = state.searcher.get();
  services.embedder = state.embedder.get();
  services.images = state.images.get();
  services.jobs = state.queue.get();
  services.webhooks = state.webhooks.get();
  services.publish_event = [&state](const std::string& type, const nlohmann::json& data) {
    state.dispatcher->publish(type, data);
  };
  services.limits.max_bytes = options.api.max_upload_bytes;
  services.fingerprint = state.fingerprint;
  server.set_services(services);
  log_event("info", "ready",
            {{"model", options.data.model},
             {"jobs", state.queue->backend_name()},
             {"catalog", state.stores.catalog->backend_name()}});

  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  threads.emplace_back([&] { follow_catalogue(state, stop); });
  threads.emplace_back([&] { announce_finished_jobs(state, metrics, stop); });
  if (options.service.redis_url.empty()) {
    threads.emplace_back([&] {
      JobTargets targets{*state.model,
                         *state.preprocessor,
                         state.fingerprint,
                         *state.stores.catalog,
                         state.stores.index.get(),
                         state.stores.sync.get(),
                         images_dir(options.data)};
      JobWorker(*state.queue, targets, make_worker_id("serve")).run(stop);
    });
  }

  int signal = 0;
  sigwait(&signals, &signal);
  log_event("info", "shutting_down", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
  server.stop();
  stop = true;
  for (auto& thread : threads) thread.join();
  if (auto synced = state.stores.sync->catch_up(); !synced) print_error(synced.error());
  if (auto status = state.stores.index->flush(); !status) print_error(status.error());
  state.dispatcher->stop();
  (void)state.webhooks->flush();
  log_event("info", "stopped");
  return kExitOk;
}

}  // namespace

void register_serve_command(CLI::App& app, const GlobalOptions& global, CommandFn& run) {
  auto options = std::make_shared<ServeOptions>();
  auto* command = app.add_subcommand("serve", "Serve the HTTP API, the web page and /metrics");
  add_data_options(*command, options->data, true);
  add_service_options(*command, options->service);
  auto& api = options->api;
  command->add_option("--host", api.host, "Listen address (default 127.0.0.1)")
      ->envname("LOOKALIKE_HOST");
  command->add_option("--port", api.port, "Listen port (default 8008)")
      ->envname("LOOKALIKE_PORT")
      ->check(CLI::Range(0, 65535));
  command->add_option("--http-threads", api.http_threads, "Connections served at once (default 64)")
      ->envname("LOOKALIKE_HTTP_THREADS")
      ->check(CLI::Range(4, 1024));
  command
      ->add_option("--rate-limit", api.rate_limit,
                   "Requests per second per key or client IP; 0: off (default 50)")
      ->envname("LOOKALIKE_RATE_LIMIT")
      ->check(CLI::Range(0.0, 1e6));
  command->add_option("--rate-burst", api.rate_burst, "Rate-limit bucket size (default 100)")
      ->envname("LOOKALIKE_RATE_BURST")
      ->check(CLI::Range(1.0, 1e6));
  command
      ->add_flag("--trust-proxy", api.trust_proxy,
                 "Take the client IP from X-Forwarded-For (behind nginx)")
      ->envname("LOOKALIKE_TRUST_PROXY");
  command
      ->add_option("--cors-origins", options->cors_origins,
                   "Comma-separated origins allowed by CORS, or *")
      ->envname("LOOKALIKE_CORS_ORIGINS");
  command
      ->add_option("--max-upload-mb", options->max_upload_mb,
                   "Largest request body in MiB (default 20)")
      ->envname("LOOKALIKE_MAX_UPLOAD_MB")
      ->check(CLI::Range(0.001, 1024.0));
  command
      ->add_option("--request-timeout", api.request_timeout_s,
                   "Socket read/write timeout in seconds (default 30)")
      ->envname("LOOKALIKE_REQUEST_TIMEOUT")
      ->check(CLI::Range(1, 3600));
  command
      ->add_option("--ingest-root", api.ingest_root,
                   "Local sources of API ingest jobs must lie under it (default DATA/imports)")
      ->envname("LOOKALIKE_INGEST_ROOT");
  command
      ->add_flag("--webhook-allow-private", api.webhook_allow_private,
                 "Allow webhook targets on loopback and private networks")
      ->envname("LOOKALIKE_WEBHOOK_ALLOW_PRIVATE");
  command
      ->add_option("--public-url", api.public_url,
                   "Prefix for absolute image URLs, e.g. https://shop.example")
      ->envname("LOOKALIKE_PUBLIC_URL");
  command
      ->add_option("--text-cache", options->text_cache,
                   "Text query embeddings kept (LRU; default 10000)")
      ->envname("LOOKALIKE_TEXT_CACHE")
      ->check(CLI::Range(0, 10'000'000));
  command->callback([&run, &global, options] {
    run = [&global, options] { return run_serve(*options, global); };
  });
}

}  // namespace lookalike::apps
