// The contract every JobQueue backend must honour, as value-parameterised GoogleTests: each
// backend's test file includes this header once and instantiates JobQueueContractTest with a
// JobQueueBackend whose open_fresh(options) returns a new, empty queue for every call.
// Leases are short (300 ms) so that lost-worker tests take well under a second each.
// Thread-safety: tests only; the concurrency tests drive one queue from several threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "jobs/job.h"
#include "jobs/job_queue.h"

namespace lookalike::jobs::contract {

using namespace std::chrono_literals;

struct JobQueueBackend {
  std::string name;  // shown in test names: "memory", "redis"
  // A new, empty queue with these options, or nullptr (after recording why) when the backend
  // cannot be opened: the test then fails.
  std::function<std::unique_ptr<JobQueue>(const JobQueueOptions&)> open_fresh;
};

// gtest prints the parameter in failure messages.
inline void PrintTo(const JobQueueBackend& backend, std::ostream* out) { *out << backend.name; }

inline std::string backend_test_name(const ::testing::TestParamInfo<JobQueueBackend>& info) {
  return info.param.name;
}

#define JOBS_ASSERT_OK(expr)                                                             \
  do {                                                                                   \
    const auto& jobs_result_ = (expr);                                                   \
    ASSERT_TRUE(jobs_result_.ok()) << #expr << ": " << jobs_result_.error().to_string(); \
  } while (false)

#define JOBS_EXPECT_ERROR(expr, expected_code)                                            \
  do {                                                                                    \
    const auto& jobs_result_ = (expr);                                                    \
    ASSERT_FALSE(jobs_result_.ok()) << #expr << " succeeded";                             \
    EXPECT_EQ(error_code_name(jobs_result_.error().code), error_code_name(expected_code)) \
        << #expr << ": " << jobs_result_.error().to_string();                             \
  } while (false)

// Options for contract tests: a 300 ms lease.
inline JobQueueOptions test_options() {
  JobQueueOptions options;
  options.lease = 300ms;
  options.max_attempts = 3;
  options.keep_finished = 1000;
  return options;
}

// "w<n>" (built with += : GCC 12 warns falsely on "literal" + std::string&& in lambdas).
inline std::string worker_name(int n) {
  std::string name = "w";
  name += std::to_string(n);
  return name;
}

inline bool is_iso8601_utc(const std::string& text) {
  static const std::regex pattern(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
  return std::regex_match(text, pattern);
}

// --- the suite ----------------------------------------------------------------------------------

class JobQueueContractTest : public ::testing::TestWithParam<JobQueueBackend> {
 protected:
  void SetUp() override { reopen(test_options()); }

  // Replaces the queue with a fresh one with these options.
  void reopen(const JobQueueOptions& options) {
    queue_ = GetParam().open_fresh(options);
    // A backend that failed to open has already recorded why; a test body must not run then.
    if (queue_ == nullptr) GTEST_FAIL() << GetParam().name << " backend could not be opened";
  }

  JobQueue& q() { return *queue_; }

  Job submit(const std::string& kind = "ingest",
             const nlohmann::json& params = nlohmann::json::object()) {
    auto job = queue_->submit(kind, params);
    EXPECT_TRUE(job.ok()) << job.error().to_string();
    return job.ok() ? *job : Job{};
  }

  Job get(const std::string& id) {
    auto job = queue_->get(id);
    EXPECT_TRUE(job.ok()) << job.error().to_string();
    return job.ok() ? *job : Job{};
  }

  std::optional<Job> claim(const std::string& worker, std::chrono::milliseconds wait = 0ms) {
    auto job = queue_->claim(worker, wait);
    EXPECT_TRUE(job.ok()) << job.error().to_string();
    return job.ok() ? *job : std::nullopt;
  }

  std::vector<std::string> ids(const JobPage& page) {
    std::vector<std::string> out;
    for (const auto& job : page.items) out.push_back(job.id);
    return out;
  }

  JobPage list(std::int64_t offset, std::int64_t limit,
               std::optional<JobState> state = std::nullopt) {
    auto page = queue_->list(offset, limit, state);
    EXPECT_TRUE(page.ok()) << page.error().to_string();
    return page.ok() ? *page : JobPage{};
  }

  Status complete(const Job& job, const std::string& worker) {
    return queue_->finish(job.id, worker, JobState::kCompleted, {{"done", true}}, std::nullopt, {});
  }

  std::unique_ptr<JobQueue> queue_;
};

TEST_P(JobQueueContractTest, SubmitStoresAQueuedJob) {
  nlohmann::json params = {{"source", "s3://bucket/prefix"}, {"concurrency", 5}};
  Job job = submit("ingest", params);
  EXPECT_TRUE(std::regex_match(job.id, std::regex("job_[0-9a-f]{16}"))) << job.id;
  EXPECT_EQ(job.kind, "ingest");
  EXPECT_EQ(job.params, params);
  EXPECT_EQ(job.state, JobState::kQueued);
  EXPECT_EQ(job.attempts, 0);
  EXPECT_TRUE(is_iso8601_utc(job.created_at)) << job.created_at;
  EXPECT_TRUE(job.started_at.empty());
  EXPECT_TRUE(job.finished_at.empty());

  Job stored = get(job.id);
  EXPECT_EQ(job_to_json(stored), job_to_json(job));
  EXPECT_NE(submit("reindex").id, job.id);
  EXPECT_EQ(q().backend_name(), GetParam().name);
  JOBS_ASSERT_OK(q().ping());
}

TEST_P(JobQueueContractTest, ParamsAndResultsRoundTripExactly) {
  nlohmann::json params = {{"empty_array", nlohmann::json::array()},
                           {"empty_object", nlohmann::json::object()},
                           {"big", 9007199254740993LL},
                           {"negative", -42},
                           {"fraction", 0.1},
                           {"text", "Grüße, \"quoted\" \\ 🙂"},
                           {"nested", {{"list", {1, "two", nullptr, false}}}}};
  Job job = submit("reindex", params);
  EXPECT_EQ(get(job.id).params, params);

  auto claimed = claim("w1");
  ASSERT_TRUE(claimed);
  nlohmann::json progress = {{"done", 3}, {"total", 10}, {"phases", nlohmann::json::array()}};
  JOBS_ASSERT_OK(q().heartbeat(job.id, "w1", progress, {"a.jpg: bad", "b.jpg: worse"}));
  EXPECT_EQ(get(job.id).progress, progress);
  JOBS_ASSERT_OK(q().finish(job.id, "w1", JobState::kCompleted, params, std::nullopt, {}));
  EXPECT_EQ(get(job.id).result, params);
}

TEST_P(JobQueueContractTest, UnknownIdIsNotFound) {
  JOBS_EXPECT_ERROR(q().get("job_0000000000000000"), ErrorCode::kNotFound);
  JOBS_EXPECT_ERROR(q().heartbeat("job_0000000000000000", "w", {}, {}), ErrorCode::kNotFound);
  JOBS_EXPECT_ERROR(
      q().finish("job_0000000000000000", "w", JobState::kCompleted, nullptr, std::nullopt, {}),
      ErrorCode::kNotFound);
  JOBS_EXPECT_ERROR(q().release("job_0000000000000000", "w"), ErrorCode::kNotFound);
}

TEST_P(JobQueueContractTest, ListIsNewestFirstWithOffsetLimitAndTotal) {
  std::vector<std::string> submitted;
  for (int i = 0; i < 5; ++i) submitted.push_back(submit("ingest", {{"n", i}}).id);
  std::vector<std::string> newest_first(submitted.rbegin(), submitted.rend());

  JobPage all = list(0, 20);
  EXPECT_EQ(all.total, 5);
  EXPECT_EQ(ids(all), newest_first);

  JobPage middle = list(1, 2);
  EXPECT_EQ(middle.total, 5);
  EXPECT_EQ(ids(middle), (std::vector<std::string>{submitted[3], submitted[2]}));

  EXPECT_EQ(ids(list(4, 10)), std::vector<std::string>{submitted[0]});
  JobPage beyond = list(10, 5);
  EXPECT_TRUE(beyond.items.empty());
  EXPECT_EQ(beyond.total, 5);
  JobPage none = list(0, 0);
  EXPECT_TRUE(none.items.empty());
  EXPECT_EQ(none.total, 5);
  EXPECT_EQ(list(0, std::numeric_limits<std::int64_t>::max()).items.size(), 5u);

  JOBS_EXPECT_ERROR(q().list(-1, 10, std::nullopt), ErrorCode::kInvalidArgument);
  JOBS_EXPECT_ERROR(q().list(0, -1, std::nullopt), ErrorCode::kInvalidArgument);
}

TEST_P(JobQueueContractTest, ListFiltersByState) {
  Job a = submit();
  Job b = submit();
  Job c = submit();
  Job d = submit();
  ASSERT_EQ(claim("w1")->id, a.id);
  ASSERT_EQ(claim("w1")->id, b.id);
  ASSERT_EQ(claim("w1")->id, c.id);
  JOBS_ASSERT_OK(complete(a, "w1"));
  JOBS_ASSERT_OK(q().finish(b.id, "w1", JobState::kFailed, nullptr, "boom", {}));

  JobPage queued = list(0, 10, JobState::kQueued);
  EXPECT_EQ(queued.total, 1);
  EXPECT_EQ(ids(queued), std::vector<std::string>{d.id});
  EXPECT_EQ(ids(list(0, 10, JobState::kRunning)), std::vector<std::string>{c.id});
  EXPECT_EQ(ids(list(0, 10, JobState::kCompleted)), std::vector<std::string>{a.id});
  JobPage failed = list(0, 10, JobState::kFailed);
  EXPECT_EQ(ids(failed), std::vector<std::string>{b.id});
  ASSERT_EQ(failed.items.size(), 1u);
  EXPECT_EQ(failed.items[0].state, JobState::kFailed);
  EXPECT_EQ(list(0, 10).total, 4);
}

TEST_P(JobQueueContractTest, ClaimTakesJobsInFifoOrder) {
  Job a = submit("ingest", {{"n", 1}});
  Job b = submit("reindex", {{"n", 2}});
  Job c = submit("ingest", {{"n", 3}});
  for (const Job& expected : {a, b, c}) {
    auto claimed = claim("worker-1");
    ASSERT_TRUE(claimed);
    EXPECT_EQ(claimed->id, expected.id);
    EXPECT_EQ(claimed->kind, expected.kind);
    EXPECT_EQ(claimed->params, expected.params);
    EXPECT_EQ(claimed->state, JobState::kRunning);
    EXPECT_EQ(claimed->worker, "worker-1");
    EXPECT_EQ(claimed->attempts, 1);
    EXPECT_TRUE(is_iso8601_utc(claimed->started_at)) << claimed->started_at;
    EXPECT_EQ(claimed->created_at, expected.created_at);
    Job stored = get(expected.id);
    EXPECT_EQ(stored.state, JobState::kRunning);
    EXPECT_EQ(stored.worker, "worker-1");
  }
  EXPECT_FALSE(claim("worker-1"));
}

TEST_P(JobQueueContractTest, ClaimTimesOutWithNothingQueued) {
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(claim("w", 0ms));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);

  start = std::chrono::steady_clock::now();
  EXPECT_FALSE(claim("w", 250ms));
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 240ms);
  EXPECT_LT(waited, 1500ms);
}

TEST_P(JobQueueContractTest, ClaimWithAHugeWaitTakesAQueuedJobAtOnce) {
  Job job = submit();
  auto claimed = claim("w", std::chrono::milliseconds::max());
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->id, job.id);
}

TEST_P(JobQueueContractTest, ClaimWaitsForAJobSubmittedMeanwhile) {
  std::string id;
  std::thread submitter([&] {
    std::this_thread::sleep_for(100ms);
    auto job = q().submit("ingest", nlohmann::json::object());
    if (job) id = job->id;
  });
  auto start = std::chrono::steady_clock::now();
  auto claimed = claim("w", 5000ms);
  auto waited = std::chrono::steady_clock::now() - start;
  submitter.join();
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->id, id);
  EXPECT_LT(waited, 2000ms);
}

TEST_P(JobQueueContractTest, ConcurrentClaimersNeverGetTheSameJob) {
  constexpr int kJobs = 60;
  constexpr int kWorkers = 4;
  std::set<std::string> submitted;
  for (int i = 0; i < kJobs; ++i) submitted.insert(submit("ingest", {{"n", i}}).id);

  std::mutex mutex;
  std::vector<std::string> claimed;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      const std::string worker = worker_name(w);
      while (true) {
        auto job = q().claim(worker, 0ms);
        if (!job) {
          ++failures;
          return;
        }
        if (!*job) return;
        if (!q().finish((*job)->id, worker, JobState::kCompleted, nullptr, std::nullopt, {})) {
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
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()), submitted);
  EXPECT_EQ(list(0, 1, JobState::kCompleted).total, kJobs);
}

TEST_P(JobQueueContractTest, HeartbeatKeepsTheLeaseAndStoresProgress) {
  JobQueueOptions options = test_options();
  options.lease = 500ms;
  reopen(options);
  Job job = submit();
  ASSERT_TRUE(claim("w1"));
  auto until = std::chrono::steady_clock::now() + 1200ms;
  int beat = 0;
  while (std::chrono::steady_clock::now() < until) {
    ++beat;
    JOBS_ASSERT_OK(q().heartbeat(job.id, "w1", {{"done", beat}}, {"item " + std::to_string(beat)}));
    EXPECT_FALSE(claim("w2")) << "the lease was lost although heartbeats came";
    std::this_thread::sleep_for(100ms);
  }
  Job stored = get(job.id);
  EXPECT_EQ(stored.state, JobState::kRunning);
  EXPECT_EQ(stored.worker, "w1");
  EXPECT_EQ(stored.attempts, 1);
  EXPECT_EQ(stored.progress, nlohmann::json({{"done", beat}}));
  EXPECT_EQ(stored.errors, std::vector<std::string>{"item " + std::to_string(beat)});
  JOBS_ASSERT_OK(complete(job, "w1"));
}

TEST_P(JobQueueContractTest, ExpiredLeaseRequeuesTheJobAtTheFrontForAnotherWorker) {
  Job lost = submit("ingest", {{"n", 1}});
  Job other = submit("ingest", {{"n", 2}});
  ASSERT_EQ(claim("w1")->id, lost.id);
  std::this_thread::sleep_for(400ms);  // w1 stops heartbeating: its 300 ms lease expires

  auto claimed = claim("w2");
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->id, lost.id) << "a recovered job goes to the front of the queue";
  EXPECT_EQ(claimed->attempts, 2);
  EXPECT_EQ(claimed->worker, "w2");
  EXPECT_EQ(claimed->state, JobState::kRunning);

  // The stale worker is refused everything: it must abandon the job.
  JOBS_EXPECT_ERROR(q().heartbeat(lost.id, "w1", {}, {}), ErrorCode::kFailedPrecondition);
  JOBS_EXPECT_ERROR(q().finish(lost.id, "w1", JobState::kCompleted, nullptr, std::nullopt, {}),
                    ErrorCode::kFailedPrecondition);
  JOBS_EXPECT_ERROR(q().release(lost.id, "w1"), ErrorCode::kFailedPrecondition);
  Job stored = get(lost.id);
  EXPECT_EQ(stored.worker, "w2");
  EXPECT_EQ(stored.state, JobState::kRunning);

  JOBS_ASSERT_OK(complete(lost, "w2"));
  EXPECT_EQ(claim("w3")->id, other.id);
}

TEST_P(JobQueueContractTest, HeartbeatAfterExpiryWithoutRecoveryStillSucceeds) {
  // Recovery happens when someone claims; until then the late worker still owns its job.
  Job job = submit();
  ASSERT_TRUE(claim("w1"));
  std::this_thread::sleep_for(400ms);
  JOBS_ASSERT_OK(q().heartbeat(job.id, "w1", {}, {}));
  EXPECT_FALSE(claim("w2"));
  JOBS_ASSERT_OK(complete(job, "w1"));
}

TEST_P(JobQueueContractTest, ExceedingMaxAttemptsFailsTheJob) {
  JobQueueOptions options = test_options();
  options.lease = 150ms;
  options.max_attempts = 2;
  reopen(options);
  Job job = submit();
  ASSERT_TRUE(claim("w1"));
  std::this_thread::sleep_for(250ms);
  auto second = claim("w2");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->attempts, 2);
  std::this_thread::sleep_for(250ms);
  EXPECT_FALSE(claim("w3")) << "a job lost max_attempts times is not handed out again";

  Job failed = get(job.id);
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_EQ(failed.error, std::optional<std::string>("worker lost 2 times"));
  EXPECT_EQ(failed.attempts, 2);
  EXPECT_TRUE(is_iso8601_utc(failed.finished_at)) << failed.finished_at;
  JOBS_EXPECT_ERROR(q().heartbeat(job.id, "w2", {}, {}), ErrorCode::kFailedPrecondition);

  auto events = q().take_finished_events(10);
  JOBS_ASSERT_OK(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].id, job.id);
  EXPECT_EQ((*events)[0].state, JobState::kFailed);
}

TEST_P(JobQueueContractTest, ReleasePutsTheJobBackAtTheFront) {
  Job a = submit();
  Job b = submit();
  ASSERT_EQ(claim("w1")->id, a.id);
  JOBS_EXPECT_ERROR(q().release(a.id, "someone-else"), ErrorCode::kFailedPrecondition);
  JOBS_ASSERT_OK(q().heartbeat(a.id, "w1", {{"done", 7}}, {}));
  JOBS_ASSERT_OK(q().release(a.id, "w1"));

  Job released = get(a.id);
  EXPECT_EQ(released.state, JobState::kQueued);
  EXPECT_EQ(released.attempts, 1) << "release leaves attempts as they are";
  EXPECT_EQ(released.progress, nlohmann::json({{"done", 7}}));
  JOBS_EXPECT_ERROR(q().release(a.id, "w1"), ErrorCode::kFailedPrecondition);
  JOBS_EXPECT_ERROR(q().heartbeat(a.id, "w1", {}, {}), ErrorCode::kFailedPrecondition);

  auto again = claim("w2");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, a.id);
  EXPECT_EQ(again->attempts, 2);
  EXPECT_EQ(claim("w2")->id, b.id);
}

TEST_P(JobQueueContractTest, FinishStoresResultErrorsAndError) {
  Job ok = submit();
  Job bad = submit();
  ASSERT_TRUE(claim("w1"));
  ASSERT_TRUE(claim("w1"));

  JOBS_EXPECT_ERROR(q().finish(ok.id, "w1", JobState::kRunning, nullptr, std::nullopt, {}),
                    ErrorCode::kInvalidArgument);
  JOBS_EXPECT_ERROR(q().finish(ok.id, "w1", JobState::kQueued, nullptr, std::nullopt, {}),
                    ErrorCode::kInvalidArgument);
  JOBS_EXPECT_ERROR(q().finish(ok.id, "w2", JobState::kCompleted, nullptr, std::nullopt, {}),
                    ErrorCode::kFailedPrecondition);

  nlohmann::json result = {{"products", 3}, {"images", 5}};
  JOBS_ASSERT_OK(
      q().finish(ok.id, "w1", JobState::kCompleted, result, std::nullopt, {"x.jpg: corrupt"}));
  JOBS_ASSERT_OK(
      q().finish(bad.id, "w1", JobState::kFailed, nullptr, std::string("source unreachable"), {}));

  Job done = get(ok.id);
  EXPECT_EQ(done.state, JobState::kCompleted);
  EXPECT_EQ(done.result, result);
  EXPECT_EQ(done.errors, std::vector<std::string>{"x.jpg: corrupt"});
  EXPECT_FALSE(done.error);
  EXPECT_TRUE(is_iso8601_utc(done.finished_at)) << done.finished_at;
  EXPECT_EQ(done.worker, "w1");

  Job failed = get(bad.id);
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_EQ(failed.error, std::optional<std::string>("source unreachable"));
  EXPECT_TRUE(failed.result.is_null());

  // Finished is final.
  JOBS_EXPECT_ERROR(q().finish(ok.id, "w1", JobState::kFailed, nullptr, std::nullopt, {}),
                    ErrorCode::kFailedPrecondition);
  JOBS_EXPECT_ERROR(q().heartbeat(ok.id, "w1", {}, {}), ErrorCode::kFailedPrecondition);
  JOBS_EXPECT_ERROR(q().release(bad.id, "w1"), ErrorCode::kFailedPrecondition);
}

TEST_P(JobQueueContractTest, ErrorsAreCappedAtOneHundred) {
  Job job = submit();
  ASSERT_TRUE(claim("w1"));
  std::vector<std::string> errors;
  for (int i = 0; i < 150; ++i) errors.push_back("item " + std::to_string(i) + ": bad");
  JOBS_ASSERT_OK(q().heartbeat(job.id, "w1", {}, errors));
  Job stored = get(job.id);
  ASSERT_EQ(stored.errors.size(), kMaxJobErrors);
  EXPECT_EQ(stored.errors.front(), "item 0: bad");
  EXPECT_EQ(stored.errors.back(), "item 99: bad");

  for (int i = 150; i < 250; ++i) errors.push_back("item " + std::to_string(i) + ": bad");
  JOBS_ASSERT_OK(q().finish(job.id, "w1", JobState::kCompleted, nullptr, std::nullopt, errors));
  EXPECT_EQ(get(job.id).errors.size(), kMaxJobErrors);
}

TEST_P(JobQueueContractTest, TakeFinishedEventsReturnsEachFinishedJobOnce) {
  auto none = q().take_finished_events(10);
  JOBS_ASSERT_OK(none);
  EXPECT_TRUE(none->empty());

  Job a = submit();
  Job b = submit();
  Job c = submit();
  Job still_running = submit();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(claim("w1"));
  JOBS_ASSERT_OK(complete(a, "w1"));
  JOBS_ASSERT_OK(q().finish(b.id, "w1", JobState::kFailed, nullptr, "boom", {}));
  JOBS_ASSERT_OK(complete(c, "w1"));

  auto first = q().take_finished_events(2);
  JOBS_ASSERT_OK(first);
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].id, a.id);
  EXPECT_EQ((*first)[0].state, JobState::kCompleted);
  EXPECT_EQ((*first)[1].id, b.id);
  EXPECT_EQ((*first)[1].state, JobState::kFailed);
  EXPECT_EQ((*first)[1].error, std::optional<std::string>("boom"));

  auto rest = q().take_finished_events(10);
  JOBS_ASSERT_OK(rest);
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].id, c.id);
  auto empty = q().take_finished_events(10);
  JOBS_ASSERT_OK(empty);
  EXPECT_TRUE(empty->empty());
  auto zero = q().take_finished_events(0);
  JOBS_ASSERT_OK(zero);
  EXPECT_TRUE(zero->empty());
}

TEST_P(JobQueueContractTest, TakeFinishedEventsFromConcurrentCallersIsExactlyOnce) {
  constexpr int kJobs = 40;
  std::set<std::string> finished;
  for (int i = 0; i < kJobs; ++i) {
    Job job = submit();
    ASSERT_TRUE(claim("w1"));
    JOBS_ASSERT_OK(complete(job, "w1"));
    finished.insert(job.id);
  }
  std::mutex mutex;
  std::vector<std::string> taken;
  std::atomic<int> failures{0};
  std::vector<std::thread> takers;
  for (int t = 0; t < 3; ++t) {
    takers.emplace_back([&] {
      while (true) {
        auto events = q().take_finished_events(3);
        if (!events) {
          ++failures;
          return;
        }
        if (events->empty()) return;
        std::lock_guard lock(mutex);
        for (const auto& job : *events) taken.push_back(job.id);
      }
    });
  }
  for (auto& t : takers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(taken.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(std::set<std::string>(taken.begin(), taken.end()), finished);
}

TEST_P(JobQueueContractTest, KeepFinishedDropsTheOldestFinishedJobs) {
  JobQueueOptions options = test_options();
  options.keep_finished = 3;
  reopen(options);
  std::vector<std::string> finished;
  for (int i = 0; i < 5; ++i) {
    Job job = submit("ingest", {{"n", i}});
    auto claimed = claim("w1");
    ASSERT_TRUE(claimed);
    ASSERT_EQ(claimed->id, job.id);
    JOBS_ASSERT_OK(complete(job, "w1"));
    finished.push_back(job.id);
  }
  // Queued and running jobs are never dropped.
  Job running = submit();
  ASSERT_TRUE(claim("w1"));
  Job waiting = submit();

  JOBS_EXPECT_ERROR(q().get(finished[0]), ErrorCode::kNotFound);
  JOBS_EXPECT_ERROR(q().get(finished[1]), ErrorCode::kNotFound);
  for (int i = 2; i < 5; ++i) EXPECT_EQ(get(finished[i]).state, JobState::kCompleted);
  EXPECT_EQ(get(running.id).state, JobState::kRunning);
  EXPECT_EQ(get(waiting.id).state, JobState::kQueued);
  JobPage all = list(0, 100);
  EXPECT_EQ(all.total, 5);
  EXPECT_EQ(ids(all), (std::vector<std::string>{waiting.id, running.id, finished[4], finished[3],
                                                finished[2]}));
  EXPECT_EQ(list(0, 100, JobState::kCompleted).total, 3);

  auto events = q().take_finished_events(100);
  JOBS_ASSERT_OK(events);
  ASSERT_EQ(events->size(), 3u) << "events wait for at most keep_finished jobs";
  EXPECT_EQ((*events)[0].id, finished[2]);
  EXPECT_EQ((*events)[2].id, finished[4]);
}

TEST_P(JobQueueContractTest, JobToJsonHasTheApiShape) {
  Job job = submit("ingest", {{"source", "DIR"}});
  nlohmann::ordered_json queued = job_to_json(get(job.id));
  std::vector<std::string> keys;
  for (const auto& [key, value] : queued.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"id", "kind", "state", "params", "progress", "result",
                                            "errors", "error", "attempts", "worker", "created_at",
                                            "started_at", "finished_at"}));
  EXPECT_EQ(queued["state"], "queued");
  EXPECT_EQ(queued["params"], nlohmann::ordered_json({{"source", "DIR"}}));
  EXPECT_EQ(queued["progress"], nlohmann::ordered_json::object());
  EXPECT_TRUE(queued["result"].is_null());
  EXPECT_EQ(queued["errors"], nlohmann::ordered_json::array());
  EXPECT_TRUE(queued["error"].is_null());
  EXPECT_EQ(queued["attempts"], 0);
  EXPECT_TRUE(queued["worker"].is_null());
  EXPECT_TRUE(queued["created_at"].is_string());
  EXPECT_TRUE(queued["started_at"].is_null());
  EXPECT_TRUE(queued["finished_at"].is_null());

  ASSERT_TRUE(claim("w1"));
  JOBS_ASSERT_OK(q().finish(job.id, "w1", JobState::kFailed, {{"partial", 1}}, "boom", {"e1"}));
  Job failed = get(job.id);
  nlohmann::ordered_json json = job_to_json(failed);
  EXPECT_EQ(json["state"], "failed");
  EXPECT_EQ(json["error"], "boom");
  EXPECT_EQ(json["errors"], nlohmann::ordered_json({"e1"}));
  EXPECT_EQ(json["worker"], "w1");
  EXPECT_EQ(json["attempts"], 1);
  EXPECT_TRUE(json["started_at"].is_string());
  EXPECT_TRUE(json["finished_at"].is_string());

  auto back = job_from_json(nlohmann::json::parse(json.dump()));
  JOBS_ASSERT_OK(back);
  EXPECT_EQ(job_to_json(*back), json);
}

}  // namespace lookalike::jobs::contract
