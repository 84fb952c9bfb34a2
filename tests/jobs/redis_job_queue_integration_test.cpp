// RedisJobQueue against a real redis-server (tests/redis_server.h): the backend-independent
// contract suite with a fresh key prefix per test on one server for the whole binary, then what
// only Redis has: passwords, separate queue instances sharing jobs as separate processes would,
// a server restarted mid-use, bad URLs and unreachable servers.
#include "jobs/redis/redis_job_queue.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "jobs/job_queue_contract.h"
#include "jobs/job_queue_factory.h"
#include "jobs/redis/redis_connection.h"
#include "redis_server.h"

namespace lookalike::jobs::contract {
namespace {

using lookalike::testing::RedisServer;

// The server every test of this binary shares (started once, stopped at exit); nullptr after
// recording a failure when it cannot start.
RedisServer* server() {
  static std::unique_ptr<RedisServer> shared;
  static std::optional<Error> failure;
  if (shared == nullptr && !failure) {
    auto started = RedisServer::start();
    if (started) {
      shared = std::move(started).value();
    } else {
      failure = started.error();
    }
  }
  if (failure) {
    ADD_FAILURE() << "cannot start redis-server for the tests: " << failure->to_string();
    return nullptr;
  }
  return shared.get();
}

// A key prefix no other test of this process uses.
std::string fresh_prefix() {
  static std::atomic<int> counter{0};
  return "test" + std::to_string(++counter) + ":";
}

std::unique_ptr<JobQueue> open_queue(const std::string& url, JobQueueOptions options) {
  auto queue = open_job_queue(url, options);
  if (!queue.ok()) {
    ADD_FAILURE() << queue.error().to_string();
    return nullptr;
  }
  return std::move(*queue);
}

std::unique_ptr<JobQueue> open_fresh_redis(const JobQueueOptions& options) {
  RedisServer* redis = server();
  if (redis == nullptr) return nullptr;
  JobQueueOptions fresh = options;
  fresh.key_prefix = fresh_prefix();
  return open_queue(redis->url(), fresh);
}

INSTANTIATE_TEST_SUITE_P(Redis, JobQueueContractTest,
                         ::testing::Values(JobQueueBackend{"redis", open_fresh_redis}),
                         backend_test_name);

class RedisJobQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(server(), nullptr);
    options_ = test_options();
    options_.key_prefix = fresh_prefix();
  }

  JobQueueOptions options_;
};

TEST_F(RedisJobQueueTest, TwoQueueInstancesShareJobsAsTwoProcessesWould) {
  auto api = open_queue(server()->url(), options_);
  auto worker = open_queue(server()->url(), options_);
  ASSERT_TRUE(api && worker);
  EXPECT_EQ(api->backend_name(), "redis");

  auto job = api->submit("ingest", {{"source", "DIR"}});
  ASSERT_TRUE(job.ok()) << job.error().to_string();
  auto claimed = worker->claim("host-b:1", 0ms);
  ASSERT_TRUE(claimed.ok() && *claimed);
  EXPECT_EQ((*claimed)->id, job->id);
  auto seen = api->get(job->id);
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(seen->state, JobState::kRunning);
  EXPECT_EQ(seen->worker, "host-b:1");
  EXPECT_FALSE(api->claim("host-a:1", 0ms).value()) << "the job is already taken";

  ASSERT_TRUE(
      worker->finish(job->id, "host-b:1", JobState::kCompleted, {{"n", 1}}, std::nullopt, {}).ok());
  auto from_api = api->take_finished_events(10);
  ASSERT_TRUE(from_api.ok());
  ASSERT_EQ(from_api->size(), 1u);
  EXPECT_EQ((*from_api)[0].result, nlohmann::json({{"n", 1}}));
  EXPECT_TRUE(worker->take_finished_events(10)->empty()) << "each event is taken once in all";
}

TEST_F(RedisJobQueueTest, ClaimersOnSeparateConnectionsNeverShareAJob) {
  constexpr int kJobs = 80;
  constexpr int kWorkers = 4;
  auto api = open_queue(server()->url(), options_);
  ASSERT_TRUE(api);
  for (int i = 0; i < kJobs; ++i) ASSERT_TRUE(api->submit("ingest", {{"n", i}}).ok());

  std::vector<std::unique_ptr<JobQueue>> queues;
  for (int w = 0; w < kWorkers; ++w) {
    queues.push_back(open_queue(server()->url(), options_));
    ASSERT_TRUE(queues.back());
  }
  std::mutex mutex;
  std::vector<std::string> claimed;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      const std::string worker = worker_name(w);
      while (true) {
        auto job = queues[w]->claim(worker, 0ms);
        if (!job) {
          ++failures;
          return;
        }
        if (!*job) return;
        if (!queues[w]->finish((*job)->id, worker, JobState::kCompleted, nullptr, std::nullopt,
                               {})) {
          ++failures;
        }
        std::lock_guard lock(mutex);
        claimed.push_back((*job)->id);
      }
    });
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(),
            static_cast<std::size_t>(kJobs));
}

TEST_F(RedisJobQueueTest, KeyPrefixesSeparateQueues) {
  auto first = open_queue(server()->url(), options_);
  JobQueueOptions other = options_;
  other.key_prefix = fresh_prefix();
  auto second = open_queue(server()->url(), other);
  ASSERT_TRUE(first && second);
  auto job = first->submit("reindex", nlohmann::json::object());
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(second->get(job->id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(second->list(0, 10, std::nullopt)->total, 0);
  EXPECT_FALSE(second->claim("w", 0ms).value());

  // The documented layout.
  auto connection = RedisConnection::open(parse_redis_url(server()->url()).value());
  ASSERT_TRUE(connection.ok());
  auto kind = (*connection)->command({"HGET", options_.key_prefix + "job:" + job->id, "kind"});
  ASSERT_TRUE(kind.ok());
  EXPECT_EQ(kind->text, "reindex");
  auto queued = (*connection)->command({"LRANGE", options_.key_prefix + "jobs:queue", "0", "-1"});
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ(queued->elements.size(), 1u);
  EXPECT_EQ(queued->elements[0].text, job->id);
}

TEST_F(RedisJobQueueTest, PasswordProtectedServer) {
  auto secured = RedisServer::start("c0rrect-h0rse");
  ASSERT_TRUE(secured.ok()) << secured.error().to_string();
  const std::string endpoint = "127.0.0.1:" + std::to_string((*secured)->port());

  auto good = open_job_queue((*secured)->url(), options_);
  ASSERT_TRUE(good.ok()) << good.error().to_string();
  auto job = (*good)->submit("ingest", nlohmann::json::object());
  ASSERT_TRUE(job.ok()) << job.error().to_string();
  EXPECT_TRUE((*good)->ping().ok());

  auto wrong = open_job_queue("redis://:wr0ng-h0rse@" + endpoint, options_);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kInvalidArgument) << wrong.error().to_string();
  EXPECT_NE(wrong.error().message.find(endpoint), std::string::npos) << wrong.error().message;
  EXPECT_NE(wrong.error().message.find("credentials"), std::string::npos) << wrong.error().message;
  EXPECT_EQ(wrong.error().message.find("wr0ng-h0rse"), std::string::npos) << wrong.error().message;

  auto user = open_job_queue("redis://default:wr0ng-h0rse@" + endpoint, options_);
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.error().message.find("wr0ng-h0rse"), std::string::npos) << user.error().message;

  auto none = open_job_queue("redis://" + endpoint, options_);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kInvalidArgument) << none.error().to_string();
  EXPECT_NE(none.error().message.find("requires a password"), std::string::npos)
      << none.error().message;
}

TEST_F(RedisJobQueueTest, ReconnectsAfterTheServerRestarts) {
  auto own = RedisServer::start();
  ASSERT_TRUE(own.ok()) << own.error().to_string();
  RedisServer& redis = **own;
  auto queue = open_queue(redis.url(), options_);
  ASSERT_TRUE(queue);
  ASSERT_TRUE(queue->submit("ingest", nlohmann::json::object()).ok());

  // A restart (nothing persisted): the next command finds its connection broken and reconnects.
  ASSERT_TRUE(redis.restart().ok());
  auto after = queue->submit("reindex", nlohmann::json::object());
  ASSERT_TRUE(after.ok()) << after.error().to_string();
  auto claimed = queue->claim("w1", 0ms);
  ASSERT_TRUE(claimed.ok()) << claimed.error().to_string();
  ASSERT_TRUE(*claimed);
  EXPECT_EQ((*claimed)->id, after->id);

  // A crash: commands fail with kNetwork (quickly) while it is down, and work once it is back.
  redis.kill();
  auto start = std::chrono::steady_clock::now();
  auto down = queue->ping();
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code, ErrorCode::kNetwork) << down.error().to_string();
  auto lost = queue->heartbeat(after->id, "w1", {}, {});
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().code, ErrorCode::kNetwork);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2000ms);
  ASSERT_TRUE(redis.restart().ok());
  EXPECT_TRUE(queue->ping().ok());
  EXPECT_EQ(queue->get(after->id).error().code, ErrorCode::kNotFound);
}

TEST_F(RedisJobQueueTest, UnreachableServerIsANetworkErrorQuickly) {
  auto stopped = RedisServer::start();
  ASSERT_TRUE(stopped.ok()) << stopped.error().to_string();
  const int port = (*stopped)->port();
  ASSERT_TRUE((*stopped)->stop().ok());

  auto start = std::chrono::steady_clock::now();
  auto queue = open_job_queue("redis://:hunter2@127.0.0.1:" + std::to_string(port), options_);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1000ms);
  ASSERT_FALSE(queue.ok());
  EXPECT_EQ(queue.error().code, ErrorCode::kNetwork) << queue.error().to_string();
  EXPECT_NE(queue.error().message.find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << queue.error().message;
  EXPECT_EQ(queue.error().message.find("hunter2"), std::string::npos) << queue.error().message;
}

TEST_F(RedisJobQueueTest, BadUrlsAreInvalidArguments) {
  for (const char* url : {"http://127.0.0.1:6379", "rediss://127.0.0.1:6379", "redis://",
                          "redis://127.0.0.1:notaport", "redis://127.0.0.1:6379/x"}) {
    auto queue = open_job_queue(url, options_);
    ASSERT_FALSE(queue.ok()) << url;
    EXPECT_EQ(queue.error().code, ErrorCode::kInvalidArgument) << url;
  }
}

TEST_F(RedisJobQueueTest, SelectsTheDatabaseOfTheUrl) {
  auto db0 = open_queue(server()->url(), options_);
  auto db3 = open_queue(server()->url() + "/3", options_);
  ASSERT_TRUE(db0 && db3);
  auto job = db3->submit("ingest", nlohmann::json::object());
  ASSERT_TRUE(job.ok());
  EXPECT_TRUE(db3->get(job->id).ok());
  EXPECT_EQ(db0->get(job->id).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace lookalike::jobs::contract
