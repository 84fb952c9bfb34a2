#include "webhooks/webhook_dispatcher.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/http_client.h"
#include "core/metrics_registry.h"
#include "test_support.h"
#include "webhooks/signature.h"

namespace lookalike {
namespace {

using namespace std::chrono_literals;
using lookalike::testing::TempDir;

constexpr char kSecret[] = "whsec_receiver_secret";

struct SeenDelivery {
  std::string path;
  std::string body;
  std::string content_type;
  std::string user_agent;
  std::string event;
  std::string delivery;
  bool signature_ok = false;
};

// A webhook receiver on 127.0.0.1 (cpp-httplib) that checks signatures as a customer would.
// Handlers run on the server's threads.
class Receiver {
 public:
  Receiver() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      int status = 200;
      {
        std::lock_guard lock(mutex_);
        seen_.push_back(record(req));
        if (failures_left_ > 0) {
          --failures_left_;
          status = failure_status_;
        }
      }
      res.status = status;
      res.set_content(status == 200 ? "ok" : "nope", "text/plain");
    });
    server_.Post("/redirect", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mutex_);
        seen_.push_back(record(req));
      }
      res.status = 302;
      res.set_header("Location", url("/hook"));
    });
    server_.Post("/slow", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mutex_);
        seen_.push_back(record(req));
      }
      std::this_thread::sleep_for(400ms);
      res.status = 200;
    });
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int port() const { return port_; }
  // The next `times` requests to /hook answer `status`.
  void fail(int times, int status = 500) {
    std::lock_guard lock(mutex_);
    failures_left_ = times;
    failure_status_ = status;
  }
  std::vector<SeenDelivery> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  std::size_t count(const std::string& path) {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count_if(
        seen_.begin(), seen_.end(), [&](const SeenDelivery& s) { return s.path == path; }));
  }

 private:
  static SeenDelivery record(const httplib::Request& req) {
    SeenDelivery s;
    s.path = req.path;
    s.body = req.body;
    s.content_type = req.get_header_value("Content-Type");
    s.user_agent = req.get_header_value("User-Agent");
    s.event = req.get_header_value("X-Lookalike-Event");
    s.delivery = req.get_header_value("X-Lookalike-Delivery");
    s.signature_ok = verify_signature(req.get_header_value("X-Lookalike-Signature"), kSecret,
                                      req.body, static_cast<std::int64_t>(std::time(nullptr)));
    return s;
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<SeenDelivery> seen_;
  int failures_left_ = 0;
  int failure_status_ = 500;
};

DispatcherOptions fast_options() {
  DispatcherOptions options;
  options.allow_private = true;
  options.initial_backoff = 5ms;
  options.max_backoff = 40ms;
  options.timeout = 2000ms;
  options.max_attempts = 6;
  return options;
}

class WebhookDispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = WebhookRegistry::open(dir_ / "webhooks.json");
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    registry_ = std::move(*opened);
  }

  Webhook add(const std::string& url, std::vector<std::string> events) {
    auto webhook = registry_->add(url, events, kSecret);
    EXPECT_TRUE(webhook.ok()) << webhook.error().to_string();
    return webhook.ok() ? *webhook : Webhook{};
  }

  std::vector<Delivery> deliveries(const Webhook& webhook) {
    auto list = registry_->deliveries(webhook.id);
    EXPECT_TRUE(list.ok());
    return list.ok() ? *list : std::vector<Delivery>{};
  }

  double outcome(const std::string& name) {
    return metrics_.counter("lookalike_webhook_deliveries_total", "", {{"outcome", name}}).value();
  }

  TempDir dir_;
  std::unique_ptr<WebhookRegistry> registry_;
  MetricsRegistry metrics_;
  Receiver receiver_;
};

TEST_F(WebhookDispatcherTest, RetriesUntilDeliveredWithSignedIdenticalBodies) {
  auto webhook = add(receiver_.url("/hook"), {"product.created"});
  receiver_.fail(2, 500);
  WebhookDispatcher dispatcher(*registry_, fast_options(), &metrics_);
  nlohmann::json product = {{"id", 7}, {"external_id", "sku-7"}, {"title", "Lamp \xc3\xa9"}};
  std::string event_id = dispatcher.publish("product.created", product);
  ASSERT_TRUE(dispatcher.wait_idle(10s));

  auto seen = receiver_.seen();
  ASSERT_EQ(seen.size(), 3u);
  auto records = deliveries(webhook);
  ASSERT_EQ(records.size(), 1u);
  for (const auto& s : seen) {
    EXPECT_EQ(s.body, seen[0].body) << "every attempt sends the same bytes";
    EXPECT_TRUE(s.signature_ok);
    EXPECT_EQ(s.content_type, "application/json");
    EXPECT_EQ(s.user_agent, "lookalike-webhooks/0.1");
    EXPECT_EQ(s.event, "product.created");
    EXPECT_EQ(s.delivery, records[0].id);
  }
  auto event = nlohmann::json::parse(seen[0].body);
  EXPECT_EQ(event["id"], event_id);
  EXPECT_EQ(event_id.rfind("evt_", 0), 0u);
  EXPECT_EQ(event["type"], "product.created");
  EXPECT_EQ(event["data"], product);
  EXPECT_TRUE(event["created_at"].is_string());

  const Delivery& d = records[0];
  EXPECT_EQ(d.id.rfind("dlv_", 0), 0u);
  EXPECT_EQ(d.event_id, event_id);
  EXPECT_EQ(d.state, "delivered");
  EXPECT_EQ(d.attempts, 3);
  EXPECT_EQ(d.status_code, 200);
  EXPECT_EQ(d.last_error, "");
  EXPECT_EQ(outcome("delivered"), 1);
  EXPECT_EQ(outcome("retried"), 2);
  EXPECT_EQ(outcome("failed"), 0);
  EXPECT_NE(metrics_.render().find("lookalike_webhook_deliveries_total{outcome=\"delivered\"} 1\n"),
            std::string::npos);
}

TEST_F(WebhookDispatcherTest, HostnamesAreResolvedCheckedAndPinned) {
  auto webhook =
      add("http://localhost:" + std::to_string(receiver_.port()) + "/hook", {"product.created"});
  WebhookDispatcher dispatcher(*registry_, fast_options(), &metrics_);
  dispatcher.publish("product.created", {{"id", 1}});
  ASSERT_TRUE(dispatcher.wait_idle(10s));
  ASSERT_EQ(receiver_.count("/hook"), 1u);
  EXPECT_TRUE(receiver_.seen()[0].signature_ok);
  ASSERT_EQ(deliveries(webhook).size(), 1u);
  EXPECT_EQ(deliveries(webhook)[0].state, "delivered");
}

TEST_F(WebhookDispatcherTest, FailsAfterMaxAttempts) {
  auto webhook = add(receiver_.url("/hook"), {"job.failed"});
  receiver_.fail(1000, 503);
  auto options = fast_options();
  options.max_attempts = 4;
  WebhookDispatcher dispatcher(*registry_, options, &metrics_);
  dispatcher.publish("job.failed", {{"id", "job_1"}});
  ASSERT_TRUE(dispatcher.wait_idle(10s));
  EXPECT_EQ(receiver_.count("/hook"), 4u);
  auto records = deliveries(webhook);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].state, "failed");
  EXPECT_EQ(records[0].attempts, 4);
  EXPECT_EQ(records[0].status_code, 503);
  EXPECT_NE(records[0].last_error.find("HTTP 503"), std::string::npos) << records[0].last_error;
  EXPECT_EQ(outcome("failed"), 1);
  EXPECT_EQ(outcome("retried"), 3);
  EXPECT_EQ(outcome("delivered"), 0);
}

TEST_F(WebhookDispatcherTest, RedirectsAreNotFollowed) {
  auto webhook = add(receiver_.url("/redirect"), {"product.updated"});
  auto options = fast_options();
  options.max_attempts = 2;
  WebhookDispatcher dispatcher(*registry_, options, &metrics_);
  dispatcher.publish("product.updated", {{"id", 1}});
  ASSERT_TRUE(dispatcher.wait_idle(10s));
  EXPECT_EQ(receiver_.count("/redirect"), 2u);
  EXPECT_EQ(receiver_.count("/hook"), 0u);
  auto records = deliveries(webhook);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].state, "failed");
  EXPECT_EQ(records[0].status_code, 302);
  EXPECT_NE(records[0].last_error.find("redirects are not followed"), std::string::npos)
      << records[0].last_error;
}

TEST_F(WebhookDispatcherTest, OnlySubscribedEventsAreDelivered) {
  auto products = add(receiver_.url("/hook"), {"product.created", "product.deleted"});
  auto jobs = add(receiver_.url("/hook"), {"job.completed"});
  WebhookDispatcher dispatcher(*registry_, fast_options(), &metrics_);
  dispatcher.publish("product.created", {{"id", 1}});
  dispatcher.publish("product.updated", {{"id", 1}});
  dispatcher.publish("product.deleted", {{"id", 1}, {"external_id", "sku-1"}});
  dispatcher.publish("job.failed", {{"id", "job_1"}});
  dispatcher.publish("job.completed", {{"id", "job_2"}});
  ASSERT_TRUE(dispatcher.wait_idle(10s));
  auto seen = receiver_.seen();
  ASSERT_EQ(seen.size(), 3u);
  std::multiset<std::string> events;
  for (const auto& s : seen) events.insert(s.event);
  EXPECT_EQ(events,
            (std::multiset<std::string>{"job.completed", "product.created", "product.deleted"}));
  ASSERT_EQ(deliveries(products).size(), 2u);
  EXPECT_EQ(deliveries(products)[0].event_type, "product.deleted");  // newest first
  ASSERT_EQ(deliveries(jobs).size(), 1u);
  EXPECT_EQ(deliveries(jobs)[0].state, "delivered");
  EXPECT_THROW(dispatcher.publish("product.exploded", {}), std::logic_error);
}

TEST_F(WebhookDispatcherTest, PrivateTargetsAreRefusedWithoutSending) {
  auto webhook = add(receiver_.url("/hook"), {"product.created"});
  auto options = fast_options();
  options.allow_private = false;
  WebhookDispatcher dispatcher(*registry_, options, &metrics_);
  dispatcher.publish("product.created", {{"id", 1}});
  ASSERT_TRUE(dispatcher.wait_idle(10s));
  EXPECT_TRUE(receiver_.seen().empty());
  auto records = deliveries(webhook);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].state, "failed");
  EXPECT_EQ(records[0].attempts, 1);
  EXPECT_FALSE(records[0].status_code.has_value());
  EXPECT_NE(records[0].last_error.find("LOOKALIKE_WEBHOOK_ALLOW_PRIVATE=1"), std::string::npos)
      << records[0].last_error;
  EXPECT_EQ(outcome("refused"), 1);
  EXPECT_EQ(outcome("retried"), 0);
}

TEST_F(WebhookDispatcherTest, SlowReceiverTimesOutAndPublishDoesNotWait) {
  auto webhook = add(receiver_.url("/slow"), {"product.created"});
  auto options = fast_options();
  options.timeout = 100ms;
  options.max_attempts = 1;
  WebhookDispatcher dispatcher(*registry_, options, &metrics_);
  auto start = std::chrono::steady_clock::now();
  dispatcher.publish("product.created", {{"id", 1}});
  EXPECT_LT(std::chrono::steady_clock::now() - start, 100ms);
  ASSERT_TRUE(dispatcher.wait_idle(10s));
  auto records = deliveries(webhook);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].state, "failed");
  EXPECT_FALSE(records[0].status_code.has_value());
  EXPECT_NE(records[0].last_error.find("timed out"), std::string::npos) << records[0].last_error;
}

TEST_F(WebhookDispatcherTest, StopRecordsWaitingDeliveriesAsFailed) {
  auto webhook = add(receiver_.url("/hook"), {"product.created"});
  receiver_.fail(1000, 500);
  auto options = fast_options();
  options.initial_backoff = 60s;  // the retry would wait a minute
  options.max_backoff = 60s;
  WebhookDispatcher dispatcher(*registry_, options, &metrics_);
  dispatcher.publish("product.created", {{"id", 1}});
  for (int i = 0; i < 500 && receiver_.count("/hook") == 0; ++i) std::this_thread::sleep_for(2ms);
  // The record is updated just after the answer: wait for "retried" to be counted.
  for (int i = 0; i < 500 && outcome("retried") == 0; ++i) std::this_thread::sleep_for(2ms);
  auto start = std::chrono::steady_clock::now();
  dispatcher.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "timers are dropped, not awaited";
  auto records = deliveries(webhook);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].state, "failed");
  EXPECT_EQ(records[0].attempts, 1);
  EXPECT_NE(records[0].last_error.find("shut down"), std::string::npos) << records[0].last_error;
  EXPECT_EQ(outcome("failed"), 1);

  dispatcher.publish("product.created", {{"id", 2}});  // dropped: stopped
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(receiver_.count("/hook"), 1u);
  dispatcher.stop();  // idempotent
  // Flushed at stop: a reopened registry sees the final state.
  registry_.reset();
  auto reopened = WebhookRegistry::open(dir_ / "webhooks.json");
  ASSERT_TRUE(reopened.ok());
  auto persisted = (*reopened)->deliveries(webhook.id);
  ASSERT_TRUE(persisted.ok());
  ASSERT_FALSE(persisted->empty());
  EXPECT_EQ(persisted->back().state, "failed");
  EXPECT_NE(persisted->back().last_error.find("shut down"), std::string::npos);
}

TEST_F(WebhookDispatcherTest, RemovedWebhookGetsNoMoreAttempts) {
  auto webhook = add(receiver_.url("/hook"), {"product.created"});
  receiver_.fail(1000, 500);
  auto options = fast_options();
  options.initial_backoff = 50ms;
  options.max_backoff = 50ms;
  WebhookDispatcher dispatcher(*registry_, options, &metrics_);
  dispatcher.publish("product.created", {{"id", 1}});
  for (int i = 0; i < 500 && receiver_.count("/hook") == 0; ++i) std::this_thread::sleep_for(2ms);
  ASSERT_TRUE(registry_->remove(webhook.id).ok());
  ASSERT_TRUE(dispatcher.wait_idle(10s));
  EXPECT_LE(receiver_.count("/hook"), 2u);
}

TEST(HttpClientPinning, ResolveEntriesPinTheAddressForOneRequest) {
  Receiver receiver;
  HttpOptions options;
  options.max_redirects = 0;
  options.timeout_ms = 2000;
  HttpClient client(options);
  std::string host = "pinned-receiver.invalid:" + std::to_string(receiver.port());
  HttpRequest request;
  request.method = "POST";
  request.url = "http://" + host + "/hook";
  request.body = "{}";
  request.headers = {{"Connection", "close"}};  // no connection to reuse for the second request
  request.resolve = {host + ":127.0.0.1"};
  auto pinned = client.request(request);
  ASSERT_TRUE(pinned.ok()) << pinned.error().to_string();
  EXPECT_EQ(pinned->status, 200);
  EXPECT_EQ(pinned->primary_ip, "127.0.0.1");
  request.resolve.clear();  // the pin does not outlive its request
  auto unpinned = client.request(request);
  EXPECT_FALSE(unpinned.ok());
  EXPECT_EQ(receiver.count("/hook"), 1u);
}

}  // namespace
}  // namespace lookalike
