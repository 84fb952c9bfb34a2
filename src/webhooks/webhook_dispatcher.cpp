#include "webhooks/webhook_dispatcher.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <random>
#include <stdexcept>

#include "core/http_client.h"
#include "webhooks/signature.h"
#include "webhooks/url_policy.h"

namespace lookalike {

namespace {

constexpr char kMetricName[] = "lookalike_webhook_deliveries_total";
constexpr char kMetricHelp[] =
    "Webhook delivery attempts by outcome: delivered, retried, failed (gave up) or refused "
    "(target not allowed).";
constexpr std::size_t kMaxResponseBytes = 64 * 1024;

Counter* outcome_counter(MetricsRegistry* metrics, const char* outcome) {
  return metrics == nullptr ? nullptr
                            : &metrics->counter(kMetricName, kMetricHelp, {{"outcome", outcome}});
}

bool is_2xx(long status) { return status >= 200 && status < 300; }

}  // namespace

WebhookDispatcher::WebhookDispatcher(WebhookRegistry& registry, DispatcherOptions options,
                                     MetricsRegistry* metrics)
    : registry_(registry),
      options_(std::move(options)),
      delivered_(outcome_counter(metrics, "delivered")),
      retried_(outcome_counter(metrics, "retried")),
      failed_(outcome_counter(metrics, "failed")),
      refused_(outcome_counter(metrics, "refused")) {
  int threads = std::max(1, options_.threads);
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { run_worker(); });
}

WebhookDispatcher::~WebhookDispatcher() { stop(); }

std::string WebhookDispatcher::publish(const std::string& event_type, const nlohmann::json& data) {
  if (!is_webhook_event(event_type)) {
    throw std::logic_error("WebhookDispatcher::publish: unknown event type '" + event_type + "'");
  }
  std::string event_id = "evt_" + random_hex(12);
  std::string now = utc_timestamp_now();
  nlohmann::json event = {
      {"id", event_id}, {"type", event_type}, {"created_at", now}, {"data", data}};
  // Invalid UTF-8 in product fields must not make publishing throw.
  auto body = std::make_shared<const std::string>(
      event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  for (const auto& webhook : registry_.subscribers(event_type)) {
    Delivery record;
    record.id = "dlv_" + random_hex(12);
    record.webhook_id = webhook.id;
    record.event_id = event_id;
    record.event_type = event_type;
    record.created_at = now;
    record.updated_at = now;
    // Recorded before it is queued, so that a worker's update always finds the record.
    auto recorded = registry_.add_delivery(record);
    if (!recorded && recorded.error().code == ErrorCode::kNotFound) continue;  // removed meanwhile
    std::string refused;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        refused = "shut down before delivery finished";
      } else if (queue_.size() >= options_.max_queued) {
        refused = "dropped: " + std::to_string(queue_.size()) + " deliveries already queued";
      } else {
        queue_.push(Task{std::chrono::steady_clock::now(), next_sequence_++, record, body});
      }
    }
    if (refused.empty()) {
      wake_.notify_one();
    } else {
      finish(record, Outcome::kFailed, refused);
    }
  }
  return event_id;
}

void WebhookDispatcher::run_worker() {
  HttpOptions http;
  http.user_agent = options_.user_agent;
  http.max_redirects = 0;
  http.timeout_ms = std::max<long>(1, static_cast<long>(options_.timeout.count()));
  http.connect_timeout_s = std::max<long>(1, (http.timeout_ms + 999) / 1000);
  HttpClient client(http);

  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (queue_.empty()) {
      wake_.wait(lock);
      continue;
    }
    if (auto due = queue_.top().due; due > std::chrono::steady_clock::now()) {
      wake_.wait_until(lock, due);
      continue;
    }
    Task task = queue_.top();
    queue_.pop();
    ++in_flight_;
    lock.unlock();
    attempt(client, std::move(task));
    lock.lock();
    --in_flight_;
    if (queue_.empty() && in_flight_ == 0) {
      lock.unlock();
      (void)registry_.flush();  // out of work: the records reach the disk now
      lock.lock();
      idle_.notify_all();
    }
  }
}

std::chrono::milliseconds WebhookDispatcher::backoff_after(int attempts) const {
  thread_local std::mt19937_64 random(std::random_device{}());
  double wait = static_cast<double>(options_.initial_backoff.count()) *
                std::pow(options_.multiplier, std::max(0, attempts - 1));
  wait = std::min(wait, static_cast<double>(options_.max_backoff.count()));
  std::uniform_real_distribution<double> upper_half(wait / 2, wait);
  return std::chrono::milliseconds(static_cast<std::int64_t>(upper_half(random)));
}

void WebhookDispatcher::count(Outcome outcome) {
  Counter* counter = nullptr;
  switch (outcome) {
    case Outcome::kDelivered:
      counter = delivered_;
      break;
    case Outcome::kRetried:
      counter = retried_;
      break;
    case Outcome::kFailed:
      counter = failed_;
      break;
    case Outcome::kRefused:
      counter = refused_;
      break;
  }
  if (counter != nullptr) counter->inc();
}

void WebhookDispatcher::finish(Delivery& record, Outcome outcome, const std::string& error) {
  record.state = outcome == Outcome::kDelivered ? "delivered"
                 : outcome == Outcome::kRetried ? "pending"
                                                : "failed";
  record.last_error = error;
  record.updated_at = utc_timestamp_now();
  (void)registry_.update_delivery(record);
  count(outcome);
}

void WebhookDispatcher::attempt(HttpClient& client, Task task) {
  Delivery& record = task.record;
  auto webhook = registry_.get(record.webhook_id);
  if (!webhook) return;  // removed since: its records went with it
  ++record.attempts;
  record.status_code.reset();

  auto target = resolve_target(webhook->url, options_.allow_private);
  if (!target && target.error().code != ErrorCode::kNetwork) {
    finish(record, Outcome::kRefused, target.error().message);
    return;
  }
  std::string error;
  if (!target) {
    error = target.error().message;
  } else {
    HttpRequest request;
    request.method = "POST";
    request.url = webhook->url;
    request.body = *task.body;
    request.max_body_bytes = kMaxResponseBytes;
    request.headers = {
        {"Content-Type", "application/json"},
        {"X-Lookalike-Event", record.event_type},
        {"X-Lookalike-Delivery", record.id},
        {"X-Lookalike-Signature",
         sign_payload(webhook->secret, static_cast<std::int64_t>(std::time(nullptr)), *task.body)}};
    if (auto pin = target->curl_resolve_entry(); !pin.empty()) request.resolve.push_back(pin);
    auto response = client.request(request);
    // Defence in depth: the pin makes libcurl connect to a checked address, and a reused
    // connection goes to one checked when it was opened; either way it must be public.
    if (response && !options_.allow_private && !response->primary_ip.empty()) {
      auto address_class = classify_address(response->primary_ip);
      if (!address_class || *address_class != AddressClass::kPublic) {
        finish(record, Outcome::kRefused,
               "connected to " + response->primary_ip + ", which is not a public address");
        return;
      }
    }
    if (response) {
      record.status_code = static_cast<int>(response->status);
      if (is_2xx(response->status)) {
        finish(record, Outcome::kDelivered, "");
        return;
      }
      error = "HTTP " + std::to_string(response->status);
      if (response->status >= 300 && response->status < 400) {
        auto location = response->headers.find("location");
        error += " (redirects are not followed";
        if (location != response->headers.end()) error += "; Location: " + location->second;
        error += ")";
      }
    } else if (response.error().code == ErrorCode::kResourceExhausted) {
      finish(record, Outcome::kDelivered, "");  // only a 2xx body can be too large
      return;
    } else {
      error = response.error().message;
    }
  }

  if (record.attempts >= options_.max_attempts) {
    finish(record, Outcome::kFailed,
           error + " (gave up after " + std::to_string(record.attempts) +
               (record.attempts == 1 ? " attempt)" : " attempts)"));
    return;
  }
  finish(record, Outcome::kRetried, error);
  auto due = std::chrono::steady_clock::now() + backoff_after(record.attempts);
  {
    std::lock_guard lock(mutex_);
    queue_.push(Task{due, next_sequence_++, std::move(task.record), std::move(task.body)});
  }
  wake_.notify_one();
}

bool WebhookDispatcher::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [this] { return queue_.empty() && in_flight_ == 0; });
}

void WebhookDispatcher::stop() {
  std::lock_guard stop_lock(stop_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
  workers_.clear();
  std::vector<Task> left;
  {
    std::lock_guard lock(mutex_);
    while (!queue_.empty()) {
      left.push_back(queue_.top());
      queue_.pop();
    }
  }
  for (auto& task : left) {
    std::string error = "shut down before delivery finished";
    if (!task.record.last_error.empty()) error += " (last error: " + task.record.last_error + ")";
    finish(task.record, Outcome::kFailed, error);
  }
  (void)registry_.flush();
  idle_.notify_all();
}

}  // namespace lookalike
