// RateLimiter: one token bucket per client (API key or IP): `rate` requests per second on average,
// bursts up to `burst`. Idle buckets are forgotten, and a shard that fills up with clients that
// are not idle is emptied, so a flood of distinct IPs can neither grow memory without bound nor
// make each request scan the shard.
// Thread-safety: allow() may be called concurrently (a mutex per shard).
#pragma once

#include <array>
#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace lookalike::api {

struct RateDecision {
  bool allowed = true;
  int retry_after_s = 0;  // whole seconds until one token is back (when refused)
  int remaining = 0;      // tokens left after this request
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // rate <= 0 disables limiting.
  RateLimiter(double rate, double burst);

  RateDecision allow(const std::string& client, Clock::time_point now = Clock::now());
  bool enabled() const { return rate_ > 0; }

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Bucket> buckets;
    Clock::time_point last_sweep;
  };
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kMaxBucketsPerShard = 10000;

  void sweep(Shard& shard, Clock::time_point now);

  double rate_;
  double burst_;
  std::array<Shard, kShards> shards_;
};

}  // namespace lookalike::api
