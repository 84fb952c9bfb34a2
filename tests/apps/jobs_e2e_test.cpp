// Black-box tests of the jobs API with the real binary and the tiny conformance model: ingest and
// reindex jobs run in-process by `lookalike serve` (no Redis), the checks on job requests (ingest
// root confinement, unknown fields, bad JSON, keys), and jobs in Redis run by two
// `lookalike worker` processes, one of them killed (SIGKILL) or stopped (SIGTERM) mid-job.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "api_client.h"
#include "redis_server.h"
#include "server_process.h"
#include "test_catalogue.h"
#include "test_support.h"

namespace lookalike::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr char kAdminKey[] = "jobs-admin-key-7c1d";

fs::path tiny_model() { return conformance_dir() / "models" / "tiny-p32"; }

using Answer = ApiAnswer;

std::int64_t image_count(const TestCatalogue& catalogue) {
  std::int64_t n = 0;
  for (const auto& p : catalogue.products) n += static_cast<std::int64_t>(p.images.size());
  return n;
}

// Fails the test with the expectation `what` unless the answer has that status and error code.
void expect_error(const Answer& answer, int status, const std::string& code,
                  const std::string& what) {
  EXPECT_EQ(answer.status, status) << what << ": " << answer.raw;
  ASSERT_FALSE(answer.body.is_discarded()) << what << ": " << answer.raw;
  EXPECT_EQ(answer.body["error"]["code"], code) << what << ": " << answer.raw;
}

// Seconds since `start`, for the timings the tests print.
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

class InProcessJobsE2eTest : public ::testing::Test {
 protected:
  void start_server() {
    server_ = ServerProcess::start(
        {"--model", tiny_model().string(), "--data-dir", (dir_ / "data").string(), "--ingest-root",
         root().string(), "--rate-limit", "0"},
        {{"LOOKALIKE_ADMIN_API_KEY", kAdminKey}});
    ASSERT_NE(server_, nullptr);
    api_ = std::make_unique<ApiClient>(server_->port(), kAdminKey);
  }

  void TearDown() override {
    if (server_ != nullptr) {
      EXPECT_EQ(server_->stop(), 0) << server_->log();
    }
  }

  fs::path root() const { return dir_ / "imports"; }

  // Polls the job until it is completed or failed (or `timeout` passes) and returns it.
  json wait_finished(const std::string& id, std::chrono::milliseconds timeout = 30s) {
    json job;
    eventually(
        [&] {
          auto answer = api_->get("/api/v1/jobs/" + id);
          if (answer.status != 200) return false;
          job = answer.body;
          return job["state"] == "completed" || job["state"] == "failed";
        },
        timeout);
    return job;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<ApiClient> api_;
};

TEST_F(InProcessJobsE2eTest, IngestJobIndexesTheCatalogueAndIsListedNewestFirst) {
  auto catalogue = make_test_catalogue(root() / "batch", 40, 3, 41);
  ASSERT_NO_FATAL_FAILURE(start_server());

  auto submitted = api_->post("/api/v1/jobs/ingest", {{"source", "batch"}, {"id_prefix", "in_"}});
  ASSERT_EQ(submitted.status, 202) << submitted.raw;
  const std::string id = submitted.body["id"];
  EXPECT_TRUE(id.starts_with("job_")) << id;
  EXPECT_EQ(submitted.header("Location"), "/api/v1/jobs/" + id);
  EXPECT_EQ(submitted.body["kind"], "ingest");
  EXPECT_TRUE(submitted.body["state"] == "queued" || submitted.body["state"] == "running")
      << submitted.raw;
  // The source is stored resolved under the root.
  EXPECT_EQ(submitted.body["params"]["source"], fs::canonical(root() / "batch").string());
  EXPECT_EQ(submitted.body["params"]["id_prefix"], "in_");

  json job = wait_finished(id);
  ASSERT_EQ(job["state"], "completed") << job.dump() << "\n" << server_->log();
  EXPECT_EQ(job["result"]["ingested"], 40) << job.dump();
  EXPECT_EQ(job["result"]["failed"], 0);
  EXPECT_EQ(job["result"]["images_embedded"], image_count(catalogue));
  EXPECT_EQ(job["result"]["catalog"]["products"], 40);
  EXPECT_EQ(job["result"]["stopped"], false);
  // The progress counts are those of the end of the run, not of the last heartbeat.
  EXPECT_EQ(job["progress"]["done"], 40) << job.dump();
  EXPECT_EQ(job["progress"]["ingested"], 40) << job.dump();
  EXPECT_EQ(job["progress"]["listed"], 40) << job.dump();
  EXPECT_EQ(job["progress"]["images_embedded"], image_count(catalogue)) << job.dump();
  EXPECT_EQ(job["attempts"], 1);
  EXPECT_EQ(job["errors"], json::array());
  EXPECT_TRUE(job["error"].is_null());
  EXPECT_NE(job["worker"].get<std::string>().find(":serve"), std::string::npos) << job.dump();
  EXPECT_TRUE(job["started_at"].is_string());
  EXPECT_TRUE(job["finished_at"].is_string());

  // The in-process job wrote the index directly: the products are searchable at once.
  for (int i : {0, 17, 39}) {
    const auto& product = catalogue.products[static_cast<std::size_t>(i)];
    EXPECT_EQ(api_->best_match(rescaled_jpeg(product.images.back(), 0.7, 70)), "in_" + product.id);
  }
  auto products = api_->get("/api/v1/products?limit=1");
  EXPECT_EQ(products.body["total"], 40) << products.raw;

  // The same source by its absolute path: everything is skipped as unchanged.
  auto again = api_->post("/api/v1/jobs/ingest",
                          {{"source", (root() / "batch").string()}, {"id_prefix", "in_"}});
  ASSERT_EQ(again.status, 202) << again.raw;
  const std::string second = again.body["id"];
  job = wait_finished(second);
  ASSERT_EQ(job["state"], "completed") << job.dump();
  EXPECT_EQ(job["result"]["skipped"], 40) << job.dump();
  EXPECT_EQ(job["result"]["ingested"], 0);

  auto listed = api_->get("/api/v1/jobs");
  ASSERT_EQ(listed.status, 200) << listed.raw;
  EXPECT_EQ(listed.body["total"], 2);
  ASSERT_EQ(listed.body["items"].size(), 2u) << listed.raw;
  EXPECT_EQ(listed.body["items"][0]["id"], second);  // newest first
  EXPECT_EQ(listed.body["items"][1]["id"], id);
  auto page = api_->get("/api/v1/jobs?offset=1&limit=1");
  ASSERT_EQ(page.status, 200) << page.raw;
  EXPECT_EQ(page.body["total"], 2);
  ASSERT_EQ(page.body["items"].size(), 1u) << page.raw;
  EXPECT_EQ(page.body["items"][0]["id"], id);
  auto completed = api_->get("/api/v1/jobs?state=completed");
  EXPECT_EQ(completed.body["total"], 2) << completed.raw;
  auto queued = api_->get("/api/v1/jobs?state=queued");
  EXPECT_EQ(queued.body["total"], 0) << queued.raw;
  EXPECT_EQ(queued.body["items"], json::array());
  expect_error(api_->get("/api/v1/jobs?state=sleeping"), 400, "invalid_argument", "bad state");
  expect_error(api_->get("/api/v1/jobs?limit=0"), 400, "invalid_argument", "limit 0");
  expect_error(api_->get("/api/v1/jobs/job_0000000000000000"), 404, "not_found", "unknown job");
  // Both finished jobs are counted once in the server's metrics (40 ingested, then 40 skipped).
  EXPECT_TRUE(eventually(
      [&] {
        auto text = api_->get("/metrics").raw;
        return text.find("lookalike_jobs_total{kind=\"ingest\",state=\"completed\"} 2") !=
                   std::string::npos &&
               text.find("lookalike_ingest_products_total{outcome=\"skipped\"} 40") !=
                   std::string::npos;
      },
      5s))
      << api_->get("/metrics").raw;
}

TEST_F(InProcessJobsE2eTest, JobRequestsAreCheckedAndConfinedToTheIngestRoot) {
  make_test_catalogue(root() / "batch", 2, 1, 43);
  make_test_catalogue(dir_ / "outside", 2, 1, 44);  // beside the root: "../outside"
  fs::create_symlink(dir_ / "outside", root() / "escape");
  fs::create_symlink("/etc", root() / "etc");
  ASSERT_NO_FATAL_FAILURE(start_server());

  for (const std::string& source :
       {std::string("/etc"), std::string("../outside"), (dir_ / "outside").string(),
        std::string("escape"), std::string("etc"), std::string("batch/../../outside"),
        (root() / "escape").string(), std::string("missing"), std::string("file:///etc"),
        std::string("http://example.com/catalog.csv")}) {
    expect_error(api_->post("/api/v1/jobs/ingest", {{"source", source}}), 400, "invalid_argument",
                 "source " + source);
  }
  auto outside = api_->post("/api/v1/jobs/ingest", {{"source", "../outside"}});
  EXPECT_NE(outside.body["error"]["message"].get<std::string>().find("ingest root"),
            std::string::npos)
      << outside.raw;
  expect_error(api_->post("/api/v1/jobs/ingest", {{"source", "batch"}, {"priority", 1}}), 400,
               "invalid_argument", "unknown field");
  expect_error(api_->post("/api/v1/jobs/ingest", json::object()), 400, "invalid_argument",
               "no source");
  expect_error(api_->post("/api/v1/jobs/ingest", {{"source", 7}}), 400, "invalid_argument",
               "source a number");
  expect_error(api_->post("/api/v1/jobs/ingest", {{"source", "batch"}, {"concurrency", 0}}), 400,
               "invalid_argument", "concurrency 0");
  expect_error(api_->post("/api/v1/jobs/ingest", {{"source", "batch"}, {"id_prefix", 3}}), 400,
               "invalid_argument", "id_prefix a number");
  expect_error(api_->send("POST", "/api/v1/jobs/ingest", "{\"source\": \"batch\""), 400,
               "malformed_json", "truncated JSON");
  expect_error(api_->send("POST", "/api/v1/jobs/ingest", "[\"batch\"]"), 400, "malformed_json",
               "a JSON array");
  expect_error(api_->post("/api/v1/jobs/reindex", {{"re_embed", "yes"}}), 400, "invalid_argument",
               "re_embed a string");
  expect_error(api_->post("/api/v1/jobs/reindex", {{"rebuild", true}}), 400, "invalid_argument",
               "reindex unknown field");

  auto anonymous = api_->post("/api/v1/jobs/ingest", {{"source", "batch"}}, "");
  expect_error(anonymous, 401, "unauthorized", "no key");
  EXPECT_NE(anonymous.header("WWW-Authenticate").find("Bearer"), std::string::npos);
  expect_error(api_->post("/api/v1/jobs/ingest", {{"source", "batch"}}, "wrong-key"), 401,
               "unauthorized", "wrong key");
  expect_error(api_->get("/api/v1/jobs", ""), 401, "unauthorized", "listing without a key");
  expect_error(api_->post("/api/v1/jobs/reindex", {{"re_embed", true}}, ""), 401, "unauthorized",
               "reindex without a key");

  // Nothing above made a job.
  auto listed = api_->get("/api/v1/jobs");
  EXPECT_EQ(listed.body["total"], 0) << listed.raw;
}

TEST_F(InProcessJobsE2eTest, ReindexJobReEmbedsAndRebuildsTheIndex) {
  auto catalogue = make_test_catalogue(root() / "batch", 12, 2, 47);
  ASSERT_NO_FATAL_FAILURE(start_server());
  auto ingest = api_->post("/api/v1/jobs/ingest", {{"source", "batch"}});
  ASSERT_EQ(ingest.status, 202) << ingest.raw;
  ASSERT_EQ(wait_finished(ingest.body["id"])["state"], "completed");

  auto submitted = api_->post("/api/v1/jobs/reindex", {{"re_embed", true}});
  ASSERT_EQ(submitted.status, 202) << submitted.raw;
  EXPECT_EQ(submitted.body["kind"], "reindex");
  EXPECT_EQ(submitted.body["params"]["re_embed"], true);
  EXPECT_EQ(submitted.header("Location"),
            "/api/v1/jobs/" + submitted.body["id"].get<std::string>());
  json job = wait_finished(submitted.body["id"]);
  ASSERT_EQ(job["state"], "completed") << job.dump() << "\n" << server_->log();
  EXPECT_EQ(job["result"]["re_embedded"], 0) << job.dump();  // same model: nothing missing
  EXPECT_EQ(job["result"]["failed"], 0);
  EXPECT_EQ(job["result"]["rebuilt"], true);
  EXPECT_EQ(job["result"]["vectors"], image_count(catalogue)) << job.dump();

  // An empty body is a plain rebuild.
  auto plain = api_->send("POST", "/api/v1/jobs/reindex", "");
  ASSERT_EQ(plain.status, 202) << plain.raw;
  EXPECT_EQ(plain.body["params"]["re_embed"], false);
  ASSERT_EQ(wait_finished(plain.body["id"])["state"], "completed");

  const auto& product = catalogue.products[5];
  EXPECT_EQ(api_->best_match(rescaled_jpeg(product.images[0], 0.7, 70)), product.id);
  auto listed = api_->get("/api/v1/jobs?state=completed");
  EXPECT_EQ(listed.body["total"], 3) << listed.raw;
}

// --- Redis: `lookalike serve` owns the index, `lookalike worker` processes run the jobs -------

constexpr int kProducts = 900;

class WorkerJobsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = RedisServer::start();
    ASSERT_TRUE(redis.ok()) << redis.error().to_string();
    redis_ = std::move(redis).value();
    auto start = Clock::now();
    catalogue_ = make_test_catalogue(dir_ / "imports" / "big", kProducts, 2, 53);
    std::cout << "catalogue of " << kProducts << " products made in " << seconds_since(start)
              << " s\n";
    server_ =
        ServerProcess::start({"--model", tiny_model().string(), "--data-dir", data().string(),
                              "--redis-url", redis_->url(), "--job-lease", lease_, "--ingest-root",
                              (dir_ / "imports").string(), "--rate-limit", "0"},
                             {{"LOOKALIKE_ADMIN_API_KEY", kAdminKey}});
    ASSERT_NE(server_, nullptr);
    api_ = std::make_unique<ApiClient>(server_->port(), kAdminKey);
    for (int i = 0; i < 2; ++i) workers_[i] = spawn_worker();
  }

  void TearDown() override {
    if (server_ != nullptr) {
      EXPECT_EQ(server_->stop(), 0) << server_->log();
    }
    for (auto& worker : workers_) {
      if (worker != nullptr && worker->running()) worker->kill();
    }
  }

  fs::path data() const { return dir_ / "data"; }

  std::unique_ptr<ServerProcess> spawn_worker() {
    return ServerProcess::spawn({"worker", "--redis-url", redis_->url(), "--data-dir",
                                 data().string(), "--model", tiny_model().string(), "--job-lease",
                                 lease_});
  }

  json get_job(const std::string& id) {
    auto answer = api_->get("/api/v1/jobs/" + id);
    EXPECT_EQ(answer.status, 200) << answer.raw;
    return answer.body;
  }

  // Submits the ingest job (one product at a time, so that it lasts a few seconds) and waits until
  // a worker runs it and has reported progress. Returns the job, empty on timeout.
  json submit_and_wait_for_progress() {
    auto submitted =
        api_->post("/api/v1/jobs/ingest", {{"source", "big"}, {"concurrency", 1}, {"batch", 1}});
    EXPECT_EQ(submitted.status, 202) << submitted.raw;
    if (submitted.status != 202) return {};
    const std::string id = submitted.body["id"];
    json job;
    bool seen = eventually(
        [&] {
          job = get_job(id);
          return (job["state"] == "running" && job["progress"].value("done", 0) >= 5) ||
                 job["state"] == "completed" || job["state"] == "failed";
        },
        30s);
    bool running = seen && job["state"] == "running";
    EXPECT_TRUE(running) << "the job never ran with progress, or finished before it could be "
                            "interrupted (then make the catalogue bigger): "
                         << job.dump() << "\n"
                         << workers_[0]->log() << workers_[1]->log();
    return running ? job : json();
  }

  // The index of the worker whose pid the job's "worker" (<host>:<pid>:worker) names, or -1.
  int holder_of(const json& job) const {
    if (!job["worker"].is_string()) return -1;
    const std::string worker = job["worker"];
    for (int i = 0; i < 2; ++i) {
      if (workers_[i] == nullptr) continue;
      std::string pid = ":";
      pid += std::to_string(workers_[i]->pid());
      pid += ":worker";
      if (worker.find(pid) != std::string::npos) return i;
    }
    return -1;
  }

  // Every product of the catalogue is in the catalogue of the server exactly once.
  void expect_every_product_once() {
    auto products = api_->get("/api/v1/products?limit=1000");
    ASSERT_EQ(products.status, 200) << products.raw;
    EXPECT_EQ(products.body["total"], kProducts);
    std::multiset<std::string> seen;
    for (const auto& product : products.body["items"]) seen.insert(product["external_id"]);
    for (const auto& product : catalogue_.products) {
      EXPECT_EQ(seen.count(product.id), 1u) << product.id;
    }
    EXPECT_EQ(seen.size(), catalogue_.products.size());
  }

  // A product ingested by a worker is found through the server once it has applied the change log.
  void expect_found_through_the_server(const TestProduct& product) {
    const std::string query = rescaled_jpeg(product.images.back(), 0.7, 70);
    std::string found;
    EXPECT_TRUE(eventually(
        [&] {
          found = api_->best_match(query);
          return found == product.id;
        },
        5s))
        << "found " << found << " instead of " << product.id << "\n"
        << server_->log();
  }

  // Seconds. Shorter than the default 15 s so that a killed worker's job moves on quickly, still
  // long enough that a busy machine never misses a heartbeat in time (they come every second).
  std::string lease_ = "5";
  TempDir dir_;
  std::unique_ptr<RedisServer> redis_;
  TestCatalogue catalogue_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<ApiClient> api_;
  std::unique_ptr<ServerProcess> workers_[2];
};

TEST_F(WorkerJobsE2eTest, KilledWorkersJobIsTakenOverAfterItsLeaseAndCompletes) {
  auto start = Clock::now();
  json job = submit_and_wait_for_progress();
  ASSERT_FALSE(job.empty());
  const std::string id = job["id"];
  const int holder = holder_of(job);
  ASSERT_GE(holder, 0) << job.dump();
  const int other = 1 - holder;
  EXPECT_EQ(job["attempts"], 1);
  const int done_at_kill = job["progress"]["done"];
  std::cout << "job running on worker " << holder << " after " << seconds_since(start)
            << " s, killed at done=" << done_at_kill << "\n";
  workers_[holder]->kill();
  auto killed_at = Clock::now();

  // The other worker takes it once the lease has run out.
  bool taken = eventually(
      [&] {
        job = get_job(id);
        return holder_of(job) == other || job["state"] == "completed" || job["state"] == "failed";
      },
      20s);
  ASSERT_TRUE(taken) << job.dump() << "\n" << workers_[other]->log();
  std::cout << "taken over after " << seconds_since(killed_at) << " s\n";
  EXPECT_GE(seconds_since(killed_at), 3.0) << "taken over before the lease ran out";

  bool finished = eventually(
      [&] {
        job = get_job(id);
        return job["state"] == "completed" || job["state"] == "failed";
      },
      40s);
  ASSERT_TRUE(finished) << job.dump() << "\n" << workers_[other]->log();
  std::cout << "completed " << seconds_since(start) << " s after submission\n";
  ASSERT_EQ(job["state"], "completed") << job.dump() << "\n" << workers_[other]->log();
  EXPECT_EQ(job["attempts"], 2) << job.dump();
  EXPECT_EQ(holder_of(job), other) << job.dump();
  EXPECT_EQ(job["result"]["failed"], 0) << job.dump();
  EXPECT_EQ(job["result"]["ingested"].get<int>() + job["result"]["skipped"].get<int>(), kProducts)
      << job.dump();
  EXPECT_GT(job["result"]["skipped"].get<int>(), 0) << "the first worker's products were redone";
  EXPECT_EQ(job["result"]["catalog"]["products"], kProducts) << job.dump();

  ASSERT_NO_FATAL_FAILURE(expect_every_product_once());
  expect_found_through_the_server(catalogue_.products.back());
  expect_found_through_the_server(catalogue_.products.front());
  EXPECT_TRUE(workers_[other]->running());
}

// A lease far longer than the test waits: only a release can move the job on in time.
class StoppedWorkerJobsE2eTest : public WorkerJobsE2eTest {
 protected:
  StoppedWorkerJobsE2eTest() { lease_ = "60"; }
};

TEST_F(StoppedWorkerJobsE2eTest, StoppedWorkerHandsItsJobBackAtOnce) {
  json job = submit_and_wait_for_progress();
  ASSERT_FALSE(job.empty());
  const std::string id = job["id"];
  const int holder = holder_of(job);
  ASSERT_GE(holder, 0) << job.dump();
  const int other = 1 - holder;
  auto stopped_at = Clock::now();
  ::kill(workers_[holder]->pid(), SIGTERM);

  // Released, not left to its lease: the other worker has it well before the lease could run out.
  bool taken = eventually(
      [&] {
        job = get_job(id);
        return holder_of(job) == other;
      },
      10s);
  ASSERT_TRUE(taken) << job.dump() << "\n" << workers_[holder]->log();
  std::cout << "taken over " << seconds_since(stopped_at) << " s after the SIGTERM\n";
  EXPECT_EQ(job["attempts"], 2) << job.dump();
  EXPECT_EQ(workers_[holder]->stop(), 0) << workers_[holder]->log();
  EXPECT_NE(workers_[holder]->log().find("job_released"), std::string::npos)
      << workers_[holder]->log();

  bool finished = eventually(
      [&] {
        job = get_job(id);
        return job["state"] == "completed" || job["state"] == "failed";
      },
      40s);
  ASSERT_TRUE(finished) << job.dump();
  std::cout << "completed " << seconds_since(stopped_at) << " s after the SIGTERM\n";
  ASSERT_EQ(job["state"], "completed") << job.dump() << "\n" << workers_[other]->log();
  EXPECT_EQ(job["attempts"], 2) << job.dump();
  EXPECT_EQ(job["result"]["failed"], 0) << job.dump();
  EXPECT_EQ(job["result"]["catalog"]["products"], kProducts) << job.dump();
  ASSERT_NO_FATAL_FAILURE(expect_every_product_once());
  expect_found_through_the_server(catalogue_.products[kProducts / 2]);
}

}  // namespace
}  // namespace lookalike::testing
