// RateLimiter (api/rate_limiter.h): a token bucket per client. Time is injected through the `now`
// argument, so nothing here sleeps.
#include "api/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace lookalike::api {
namespace {

using Clock = RateLimiter::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Far from the clock's epoch, like a real steady_clock reading.
const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(24);

// prefix + number (a helper: `"literal" + std::to_string(i)` trips GCC 12's -Wrestrict).
std::string key_of(const std::string& prefix, int i) {
  std::string key = prefix;
  key += std::to_string(i);
  return key;
}

// Requests `client` makes at `now` until the first refusal: how many were allowed.
int drain(RateLimiter& limiter, const std::string& client, Clock::time_point now) {
  int allowed = 0;
  while (limiter.allow(client, now).allowed) {
    if (++allowed > 1000000) break;  // never refused: let the caller's assertion fail
  }
  return allowed;
}

TEST(RateLimiterTest, BurstThenRefusalWithRetryAfter) {
  RateLimiter limiter(1, 5);
  EXPECT_TRUE(limiter.enabled());
  for (int i = 0; i < 5; ++i) {
    auto decision = limiter.allow("ip:1.2.3.4", kT0);
    EXPECT_TRUE(decision.allowed) << i;
    EXPECT_EQ(decision.remaining, 4 - i) << i;
    EXPECT_EQ(decision.retry_after_s, 0) << i;
  }
  auto refused = limiter.allow("ip:1.2.3.4", kT0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_GE(refused.retry_after_s, 1);
  EXPECT_EQ(refused.retry_after_s, 1);  // one token per second
  EXPECT_EQ(refused.remaining, 0);
  // Refusals do not consume anything: still refused, still one second to wait.
  auto again = limiter.allow("ip:1.2.3.4", kT0);
  EXPECT_FALSE(again.allowed);
  EXPECT_EQ(again.retry_after_s, 1);
}

TEST(RateLimiterTest, RetryAfterIsWholeSecondsAndAtLeastOne) {
  // Fast refill: a token is back within 100 ms, yet Retry-After is never 0.
  RateLimiter fast(10, 1);
  EXPECT_TRUE(fast.allow("c", kT0).allowed);
  auto refused = fast.allow("c", kT0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_s, 1);

  // Slow refill: one token every 4 s, rounded up.
  RateLimiter slow(0.25, 1);
  EXPECT_TRUE(slow.allow("c", kT0).allowed);
  auto wait = slow.allow("c", kT0);
  EXPECT_FALSE(wait.allowed);
  EXPECT_EQ(wait.retry_after_s, 4);
  // 1.5 s later, 2.5 s are left: 3.
  auto later = slow.allow("c", kT0 + milliseconds(1500));
  EXPECT_FALSE(later.allowed);
  EXPECT_EQ(later.retry_after_s, 3);
}

TEST(RateLimiterTest, TokensRefillOverTime) {
  RateLimiter limiter(2, 4);  // a token every 500 ms
  EXPECT_EQ(drain(limiter, "k", kT0), 4);

  EXPECT_FALSE(limiter.allow("k", kT0 + milliseconds(400)).allowed);
  // 1.2 tokens at 600 ms: one request, 0.2 left.
  EXPECT_TRUE(limiter.allow("k", kT0 + milliseconds(600)).allowed);
  EXPECT_FALSE(limiter.allow("k", kT0 + milliseconds(600)).allowed);

  // Two more tokens one second later (2.2).
  EXPECT_EQ(drain(limiter, "k", kT0 + milliseconds(1600)), 2);

  // A long pause refills up to the burst, never beyond it.
  EXPECT_EQ(drain(limiter, "k", kT0 + seconds(3600)), 4);
}

TEST(RateLimiterTest, ClientsHaveSeparateBuckets) {
  RateLimiter limiter(1, 3);
  EXPECT_EQ(drain(limiter, "ip:10.0.0.1", kT0), 3);
  EXPECT_FALSE(limiter.allow("ip:10.0.0.1", kT0).allowed);
  // Another client is untouched by the first one's exhaustion.
  auto other = limiter.allow("ip:10.0.0.2", kT0);
  EXPECT_TRUE(other.allowed);
  EXPECT_EQ(other.remaining, 2);
  EXPECT_EQ(drain(limiter, "key:12345", kT0), 3);
  // And the first is still refused.
  EXPECT_FALSE(limiter.allow("ip:10.0.0.1", kT0).allowed);
}

TEST(RateLimiterTest, RateZeroOrNegativeDisablesLimiting) {
  for (double rate : {0.0, -1.0}) {
    RateLimiter limiter(rate, 1);
    EXPECT_FALSE(limiter.enabled()) << rate;
    for (int i = 0; i < 1000; ++i) {
      auto decision = limiter.allow("ip:1.1.1.1", kT0);
      ASSERT_TRUE(decision.allowed) << rate << " " << i;
      EXPECT_EQ(decision.retry_after_s, 0);
    }
  }
}

TEST(RateLimiterTest, BurstBelowOneAllowsOneRequest) {
  RateLimiter limiter(1, 0);
  EXPECT_EQ(drain(limiter, "c", kT0), 1);
  EXPECT_TRUE(limiter.allow("c", kT0 + seconds(1)).allowed);
}

TEST(RateLimiterTest, DefaultNowUsesTheSteadyClock) {
  RateLimiter limiter(1, 2);
  EXPECT_TRUE(limiter.allow("c").allowed);
  EXPECT_TRUE(limiter.allow("c").allowed);
  auto refused = limiter.allow("c");
  EXPECT_FALSE(refused.allowed);
  EXPECT_GE(refused.retry_after_s, 1);
}

// A flood of distinct clients: idle buckets are forgotten along the way, while the buckets of
// clients that are still limited are not.
TEST(RateLimiterTest, FloodOfDistinctClientsKeepsLimitsOfActiveClients) {
  // Full again 100 ms after the last request.
  RateLimiter limiter(100, 10);
  const auto flood_start = kT0 + seconds(1);

  // Clients that used up their burst before the flood.
  EXPECT_EQ(drain(limiter, "ip:early", kT0), 10);

  // 200k distinct clients, 1 µs apart: more than the shards hold before sweeping (16 × 10,000),
  // so idle buckets must be forgotten along the way.
  constexpr int kFlood = 200000;
  const auto step = std::chrono::microseconds(1);
  for (int i = 0; i < kFlood; ++i) {
    auto decision = limiter.allow(key_of("ip:flood-", i), flood_start + i * step);
    ASSERT_TRUE(decision.allowed) << i;
    ASSERT_EQ(decision.remaining, 9) << i;
  }
  const auto flood_end = flood_start + kFlood * step;

  // A client that exhausted its burst just before the end stays limited through sweeps.
  EXPECT_EQ(drain(limiter, "ip:active", flood_end), 10);
  for (int i = 0; i < 50000; ++i) {
    (void)limiter.allow(key_of("ip:more-", i), flood_end + i * (step / 10));
  }
  const auto after = flood_end + 50000 * (step / 10);  // 5 ms later: half a token back
  EXPECT_FALSE(limiter.allow("ip:active", after).allowed);

  // Clients seen during the flood and idle since behave as new: a full burst.
  EXPECT_EQ(drain(limiter, "ip:flood-0", after), 10);
  EXPECT_EQ(drain(limiter, "ip:early", after), 10);
}

// A flood of distinct clients faster than buckets go idle (here all within 10 s) must neither
// grow without bound nor make each request pay for it. Bounded by a time budget so that the
// test fails in seconds, not minutes, while the bug is there.
TEST(RateLimiterTest, FloodWithinTheIdleWindowStaysCheap) {
  RateLimiter limiter(1, 10);  // full again 10 s after the last request
  constexpr int kFlood = 200000;
  const auto start = std::chrono::steady_clock::now();
  const auto budget = seconds(10);  // ~60 s with the bug; well under 1 s without
  int done = 0;
  for (; done < kFlood; ++done) {
    (void)limiter.allow(key_of("ip:", done), kT0 + std::chrono::microseconds(done));
    if (done % 1000 == 0 && std::chrono::steady_clock::now() - start > budget) break;
  }
  EXPECT_EQ(done, kFlood) << "the flood ran out of its " << budget.count() << " s budget";
  // Limiting still works after the flood.
  EXPECT_EQ(drain(limiter, "ip:after", kT0 + seconds(1)), 10);
  EXPECT_FALSE(limiter.allow("ip:after", kT0 + seconds(1)).allowed);
}

TEST(RateLimiterTest, ConcurrentCallersShareOneBucketExactly) {
  // No time passes: exactly `burst` requests of the shared client are allowed, whichever thread
  // makes them, and every thread's own client gets its full burst.
  constexpr int kThreads = 8;
  constexpr int kCalls = 2000;
  constexpr double kBurst = 500;
  RateLimiter limiter(1, kBurst);
  std::atomic<int> shared_allowed{0};
  std::vector<int> own_allowed(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string own = key_of("ip:thread-", t);
      for (int i = 0; i < kCalls; ++i) {
        if (limiter.allow("key:shared", kT0).allowed) shared_allowed.fetch_add(1);
        if (limiter.allow(own, kT0).allowed) ++own_allowed[static_cast<std::size_t>(t)];
        // Distinct clients too, so shards are written to (and possibly swept) concurrently.
        (void)limiter.allow(key_of(key_of("ip:", t) + "-", i), kT0);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(shared_allowed.load(), static_cast<int>(kBurst));
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(own_allowed[static_cast<std::size_t>(t)], static_cast<int>(kBurst)) << t;
  }
  EXPECT_FALSE(limiter.allow("key:shared", kT0).allowed);
}

}  // namespace
}  // namespace lookalike::api
