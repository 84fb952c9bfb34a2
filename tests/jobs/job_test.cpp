// Job values and their JSON form, the --redis-url parser and open_job_queue's argument checks:
// everything of the jobs module that needs no queue and no server.
#include "jobs/job.h"

#include <chrono>
#include <regex>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "jobs/job_queue_factory.h"
#include "jobs/redis/redis_url.h"

namespace lookalike::jobs {
namespace {

using namespace std::chrono_literals;

TEST(JobStateTest, NamesRoundTrip) {
  for (JobState state :
       {JobState::kQueued, JobState::kRunning, JobState::kCompleted, JobState::kFailed}) {
    auto parsed = parse_job_state(job_state_name(state));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, state);
  }
  EXPECT_EQ(job_state_name(JobState::kCompleted), "completed");
  auto bad = parse_job_state("Running");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(parse_job_state("").ok());
  EXPECT_TRUE(is_finished(JobState::kFailed));
  EXPECT_FALSE(is_finished(JobState::kRunning));
}

TEST(JobTest, IdsAreJobAndSixteenHexDigitsAndDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = new_job_id();
    EXPECT_TRUE(std::regex_match(id, std::regex("job_[0-9a-f]{16}"))) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(JobTest, TimestampsAreIso8601Utc) {
  auto time = std::chrono::system_clock::time_point(std::chrono::seconds(1795514400)) + 999ms;
  EXPECT_EQ(iso8601_utc(time), "2026-11-24T10:00:00Z");
}

TEST(JobTest, CapKeepsTheFirstHundredErrors) {
  std::vector<std::string> errors;
  for (int i = 0; i < 130; ++i) errors.push_back(std::to_string(i));
  auto capped = cap_job_errors(errors);
  ASSERT_EQ(capped.size(), 100u);
  EXPECT_EQ(capped.back(), "99");
  EXPECT_EQ(cap_job_errors({"a"}).size(), 1u);
}

TEST(JobTest, JsonRoundTripsAFinishedJob) {
  Job job;
  job.id = "job_0123456789abcdef";
  job.kind = "ingest";
  job.params = {{"source", "s3://b/p"}, {"concurrency", 5}};
  job.state = JobState::kFailed;
  job.progress = {{"done", 4}, {"total", 9}};
  job.result = {{"products", 4}};
  job.errors = {"a.jpg: corrupt"};
  job.error = "source went away";
  job.attempts = 2;
  job.worker = "host-1:42";
  job.created_at = "2026-11-24T10:00:00Z";
  job.started_at = "2026-11-24T10:00:01Z";
  job.finished_at = "2026-11-24T10:00:09Z";
  auto json = job_to_json(job);
  EXPECT_EQ(json.dump(),
            R"({"id":"job_0123456789abcdef","kind":"ingest","state":"failed",)"
            R"("params":{"concurrency":5,"source":"s3://b/p"},"progress":{"done":4,"total":9},)"
            R"("result":{"products":4},"errors":["a.jpg: corrupt"],"error":"source went away",)"
            R"("attempts":2,"worker":"host-1:42","created_at":"2026-11-24T10:00:00Z",)"
            R"("started_at":"2026-11-24T10:00:01Z","finished_at":"2026-11-24T10:00:09Z"})");
  auto back = job_from_json(nlohmann::json::parse(json.dump()));
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(job_to_json(*back), json);
}

TEST(JobTest, JsonOfANewJobHasNulls) {
  Job job;
  job.id = "job_0123456789abcdef";
  job.kind = "reindex";
  job.created_at = "2026-11-24T10:00:00Z";
  auto json = job_to_json(job);
  EXPECT_EQ(json["state"], "queued");
  EXPECT_TRUE(json["result"].is_null());
  EXPECT_TRUE(json["error"].is_null());
  EXPECT_TRUE(json["worker"].is_null());
  EXPECT_TRUE(json["started_at"].is_null());
  EXPECT_TRUE(json["finished_at"].is_null());
  EXPECT_EQ(json["errors"], nlohmann::ordered_json::array());
  auto back = job_from_json(nlohmann::json::parse(json.dump()));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->worker.empty());
  EXPECT_FALSE(back->error);
  EXPECT_EQ(job_to_json(*back), json);
}

TEST(JobTest, FromJsonRejectsBadFieldsNamingThem) {
  auto base = nlohmann::json::parse(R"({"id":"job_1","kind":"ingest","state":"queued"})");
  ASSERT_TRUE(job_from_json(base).ok());
  struct Case {
    std::string field;
    nlohmann::json value;
  };
  for (const auto& c : std::vector<Case>{{"id", 5},
                                         {"state", "paused"},
                                         {"errors", {1, 2}},
                                         {"errors", "x"},
                                         {"error", 3},
                                         {"attempts", "2"},
                                         {"progress", {1}},
                                         {"started_at", 7}}) {
    auto json = base;
    json[c.field] = c.value;
    auto job = job_from_json(json);
    ASSERT_FALSE(job.ok()) << c.field << " = " << c.value.dump();
    EXPECT_EQ(job.error().code, ErrorCode::kCorruptData);
    EXPECT_NE(job.error().message.find(c.field), std::string::npos) << job.error().message;
  }
  auto missing = base;
  missing.erase("kind");
  EXPECT_FALSE(job_from_json(missing).ok());
  EXPECT_FALSE(job_from_json(nlohmann::json::array()).ok());
}

TEST(RedisUrlTest, ParsesHostPortDatabaseAndCredentials) {
  auto plain = parse_redis_url("redis://cache.internal:6380");
  ASSERT_TRUE(plain.ok()) << plain.error().to_string();
  EXPECT_EQ(plain->host, "cache.internal");
  EXPECT_EQ(plain->port, 6380);
  EXPECT_EQ(plain->db, 0);
  EXPECT_TRUE(plain->password.empty());
  EXPECT_EQ(plain->endpoint(), "cache.internal:6380");

  auto full = parse_redis_url("redis://:s3cr%40t@10.0.0.5:6379/2");
  ASSERT_TRUE(full.ok()) << full.error().to_string();
  EXPECT_EQ(full->host, "10.0.0.5");
  EXPECT_EQ(full->password, "s3cr@t");
  EXPECT_TRUE(full->username.empty());
  EXPECT_EQ(full->db, 2);

  auto user = parse_redis_url("redis://app:pa:ss@redis:6379/0");
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->username, "app");
  EXPECT_EQ(user->password, "pa:ss");

  auto defaults = parse_redis_url("redis://localhost");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->port, 6379);
  auto slash = parse_redis_url("redis://localhost:6379/");
  ASSERT_TRUE(slash.ok());
  EXPECT_EQ(slash->db, 0);

  auto ipv6 = parse_redis_url("redis://[::1]:7000/1");
  ASSERT_TRUE(ipv6.ok()) << ipv6.error().to_string();
  EXPECT_EQ(ipv6->host, "::1");
  EXPECT_EQ(ipv6->port, 7000);
  EXPECT_EQ(ipv6->endpoint(), "[::1]:7000");
}

TEST(RedisUrlTest, RejectsMalformedUrlsWithoutEchoingThem) {
  for (const char* url :
       {"http://hunter2@localhost:6379", "rediss://:hunter2@localhost:6379", "redis://",
        "redis://:hunter2@", "redis://:hunter2@localhost:", "redis://:hunter2@localhost:0",
        "redis://:hunter2@localhost:70000", "redis://:hunter2@localhost:63x9",
        "redis://:hunter2@localhost:6379/db", "redis://:hunter2@localhost:6379/-1",
        "redis://:hunter2@localhost:6379/0?timeout=1", "redis://:hunt%2@localhost",
        "redis://:hunter2@[::1", "localhost:6379"}) {
    auto parsed = parse_redis_url(url);
    ASSERT_FALSE(parsed.ok()) << url;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << url;
    EXPECT_EQ(parsed.error().message.find("hunter2"), std::string::npos) << parsed.error().message;
    EXPECT_EQ(parsed.error().message.find("hunt%2"), std::string::npos) << parsed.error().message;
  }
}

TEST(JobQueueFactoryTest, EmptyUrlOpensTheMemoryQueue) {
  auto queue = open_job_queue("");
  ASSERT_TRUE(queue.ok()) << queue.error().to_string();
  EXPECT_EQ((*queue)->backend_name(), "memory");
}

TEST(JobQueueFactoryTest, RejectsOtherSchemesAndBadOptions) {
  for (const char* url : {"http://localhost:6379", "memory://", "postgresql://x/y"}) {
    auto queue = open_job_queue(url);
    ASSERT_FALSE(queue.ok()) << url;
    EXPECT_EQ(queue.error().code, ErrorCode::kInvalidArgument);
  }
  JobQueueOptions options;
  options.lease = 0ms;
  EXPECT_EQ(open_job_queue("", options).error().code, ErrorCode::kInvalidArgument);
  options = {};
  options.max_attempts = 0;
  EXPECT_EQ(open_job_queue("", options).error().code, ErrorCode::kInvalidArgument);
  options = {};
  options.keep_finished = 0;
  EXPECT_EQ(open_job_queue("", options).error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace lookalike::jobs
