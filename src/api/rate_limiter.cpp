#include "api/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace lookalike::api {

RateLimiter::RateLimiter(double rate, double burst) : rate_(rate), burst_(std::max(1.0, burst)) {}

void RateLimiter::sweep(Shard& shard, Clock::time_point now) {
  // A bucket idle long enough to have refilled completely is the same as no bucket.
  const auto full_after = std::chrono::duration<double>(burst_ / rate_);
  std::erase_if(shard.buckets,
                [&](const auto& entry) { return now - entry.second.updated >= full_after; });
  shard.last_sweep = now;
}

RateDecision RateLimiter::allow(const std::string& client, Clock::time_point now) {
  if (rate_ <= 0) return {true, 0, 0};
  Shard& shard = shards_[std::hash<std::string>{}(client) % kShards];
  std::lock_guard lock(shard.mutex);
  if (shard.buckets.size() >= kMaxBucketsPerShard ||
      now - shard.last_sweep > std::chrono::minutes(1)) {
    sweep(shard, now);
    // A flood of new clients faster than buckets go idle: forget them all rather than scan a
    // full shard on every request (memory stays bounded; those clients start full again).
    if (shard.buckets.size() >= kMaxBucketsPerShard) shard.buckets.clear();
  }
  auto [it, inserted] = shard.buckets.try_emplace(client, Bucket{burst_, now});
  Bucket& bucket = it->second;
  if (!inserted) {
    double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    bucket.tokens = std::min(burst_, bucket.tokens + elapsed * rate_);
    bucket.updated = now;
  }
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return {true, 0, static_cast<int>(bucket.tokens)};
  }
  double wait_s = (1 - bucket.tokens) / rate_;
  return {false, std::max(1, static_cast<int>(std::ceil(wait_s))), 0};
}

}  // namespace lookalike::api
