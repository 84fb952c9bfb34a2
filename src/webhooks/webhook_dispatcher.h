// WebhookDispatcher: turns published events into signed POSTs to every subscribed webhook, on
// its own delivery threads, retrying with exponential backoff and recording each attempt in the
// registry's delivery records. The target is checked with resolve_target() before every attempt
// and the checked addresses are pinned for the connection (no DNS rebinding in between);
// redirects are not followed.
// Thread-safety: publish() and stop() may be called from any thread. The registry and the
// metrics registry are borrowed and must outlive the dispatcher.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/metrics_registry.h"
#include "webhooks/webhook.h"
#include "webhooks/webhook_registry.h"

namespace lookalike {

class HttpClient;

struct DispatcherOptions {
  int max_attempts = 6;
  // The wait after the n-th failed attempt is initial_backoff * multiplier^(n-1), capped at
  // max_backoff, then jittered to a random point in its upper half.
  std::chrono::milliseconds initial_backoff{1000};
  double multiplier = 2.0;
  std::chrono::milliseconds max_backoff{30000};
  std::chrono::milliseconds timeout{10000};  // a 2xx must arrive within this, connect included
  bool allow_private = false;      // LOOKALIKE_WEBHOOK_ALLOW_PRIVATE / --webhook-allow-private
  int threads = 2;                 // delivery threads, each with its own connection cache
  std::size_t max_queued = 10000;  // deliveries waiting or backing off; beyond: failed at once
  std::string user_agent = "lookalike-webhooks/0.1";
};

// Every attempt ends as one outcome of lookalike_webhook_deliveries_total: "delivered" (a 2xx),
// "retried" (no 2xx, another attempt is scheduled), "failed" (no 2xx at the last attempt, queue
// full, or shut down before the delivery finished) or "refused" (the target is not allowed: it
// resolves to a non-public address, or the connection ended on one, without allow_private).
class WebhookDispatcher {
 public:
  WebhookDispatcher(WebhookRegistry& registry, DispatcherOptions options,
                    MetricsRegistry* metrics = nullptr);
  ~WebhookDispatcher();  // stop()
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  // Queues one delivery of the event {"id": "evt_...", "type", "created_at", "data"} per webhook
  // subscribed to `event_type` (recorded "pending" at once) and returns the event id. Never waits
  // for the network (at most for the registry's throttled write of its delivery records). An
  // unknown event type is a bug (std::logic_error); after stop() events are dropped.
  std::string publish(const std::string& event_type, const nlohmann::json& data);

  // Stops taking events, lets every in-flight attempt finish (at most `timeout`), and records the
  // deliveries still waiting for a retry as "failed" with last_error "shut down before delivery
  // finished"; then flushes the registry's delivery records. Idempotent.
  void stop();

  // Waits until nothing is queued or in flight; false on timeout. For tests and orderly exits.
  bool wait_idle(std::chrono::milliseconds timeout);

 private:
  struct Task {
    std::chrono::steady_clock::time_point due;
    std::uint64_t sequence = 0;
    Delivery record;
    std::shared_ptr<const std::string> body;
  };
  struct LaterFirst {
    bool operator()(const Task& a, const Task& b) const {
      return a.due != b.due ? a.due > b.due : a.sequence > b.sequence;
    }
  };
  enum class Outcome { kDelivered, kRetried, kFailed, kRefused };

  void run_worker();
  void attempt(HttpClient& client, Task task);
  std::chrono::milliseconds backoff_after(int attempts) const;
  void count(Outcome outcome);
  void finish(Delivery& record, Outcome outcome, const std::string& error);

  WebhookRegistry& registry_;
  const DispatcherOptions options_;
  Counter* delivered_ = nullptr;
  Counter* retried_ = nullptr;
  Counter* failed_ = nullptr;
  Counter* refused_ = nullptr;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::priority_queue<Task, std::vector<Task>, LaterFirst> queue_;
  std::uint64_t next_sequence_ = 0;
  int in_flight_ = 0;
  bool stopping_ = false;

  std::mutex stop_mutex_;
  std::vector<std::thread> workers_;
};

}  // namespace lookalike
