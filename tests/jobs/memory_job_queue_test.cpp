// MemoryJobQueue: the backend-independent contract suite on a fresh in-process queue per test,
// plus what only the memory queue does (waking a waiting claim when a lease expires).
#include "jobs/memory/memory_job_queue.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "jobs/job_queue_contract.h"
#include "jobs/job_queue_factory.h"

namespace lookalike::jobs::contract {
namespace {

std::unique_ptr<JobQueue> open_fresh_memory(const JobQueueOptions& options) {
  auto queue = open_job_queue("", options);
  if (!queue.ok()) {
    ADD_FAILURE() << queue.error().to_string();
    return nullptr;
  }
  return std::move(*queue);
}

INSTANTIATE_TEST_SUITE_P(Memory, JobQueueContractTest,
                         ::testing::Values(JobQueueBackend{"memory", open_fresh_memory}),
                         backend_test_name);

TEST(MemoryJobQueueTest, WaitingClaimTakesAJobWhoseLeaseExpiresMeanwhile) {
  MemoryJobQueue queue(test_options());
  auto job = queue.submit("ingest", nlohmann::json::object());
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE(queue.claim("w1", 0ms).value());
  auto start = std::chrono::steady_clock::now();
  auto claimed = queue.claim("w2", 3000ms);
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(claimed.ok());
  ASSERT_TRUE(*claimed);
  EXPECT_EQ((*claimed)->id, job->id);
  EXPECT_EQ((*claimed)->attempts, 2);
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 1500ms) << "the claim woke when the lease expired, not at its deadline";
}

TEST(MemoryJobQueueTest, EachSubmitWakesOneOfManyWaitingClaims) {
  MemoryJobQueue queue(test_options());
  constexpr int kWaiters = 4;
  std::vector<std::thread> waiters;
  std::atomic<int> got{0};
  for (int i = 0; i < kWaiters; ++i) {
    waiters.emplace_back([&, i] {
      auto job = queue.claim(worker_name(i), 3000ms);
      if (job.ok() && job->has_value()) ++got;
    });
  }
  std::this_thread::sleep_for(50ms);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kWaiters; ++i) {
    ASSERT_TRUE(queue.submit("ingest", {{"n", i}}).ok());
  }
  for (auto& t : waiters) t.join();
  EXPECT_EQ(got.load(), kWaiters);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
}

TEST(MemoryJobQueueTest, BackendNameAndPing) {
  MemoryJobQueue queue(test_options());
  EXPECT_EQ(queue.backend_name(), "memory");
  EXPECT_TRUE(queue.ping().ok());
}

}  // namespace
}  // namespace lookalike::jobs::contract
