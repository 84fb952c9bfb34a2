// Black-box tests of webhooks with the real binary: a receiver in the test (cpp-httplib on
// 127.0.0.1) checks every delivery's X-Lookalike-Signature with verify_signature; product.created,
// product.deleted and job.completed arrive signed, a receiver answering 500 twice gets the event on
// the third attempt (visible in the delivery records), and registrations are checked (private
// targets refused without --webhook-allow-private, unknown events, secrets never shown again).
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api_client.h"
#include "server_process.h"
#include "test_catalogue.h"
#include "test_support.h"
#include "webhooks/signature.h"

namespace lookalike::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr char kAdminKey[] = "hooks-admin-key-31b9";

fs::path tiny_model() { return conformance_dir() / "models" / "tiny-p32"; }

using Answer = ApiAnswer;

// One POST the receiver got.
struct Received {
  std::string body;
  json event;
  std::string event_header, delivery_header, signature_header, content_type;
  std::int64_t received_unix = 0;
  int answered = 0;
};

// The webhook target: records every POST /hook and answers 200, or 500 while fail_next_ > 0.
class Receiver {
 public:
  Receiver() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      Received got;
      got.body = req.body;
      got.event = json::parse(req.body, nullptr, false);
      got.event_header = req.get_header_value("X-Lookalike-Event");
      got.delivery_header = req.get_header_value("X-Lookalike-Delivery");
      got.signature_header = req.get_header_value("X-Lookalike-Signature");
      got.content_type = req.get_header_value("Content-Type");
      got.received_unix = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
      std::lock_guard lock(mutex_);
      got.answered = fail_next_ > 0 ? 500 : 200;
      if (fail_next_ > 0) --fail_next_;
      res.status = got.answered;
      res.set_content(got.answered == 200 ? "ok" : "try again", "text/plain");
      received_.push_back(std::move(got));
    });
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  int port() const { return port_; }

  void fail_next(int n) {
    std::lock_guard lock(mutex_);
    fail_next_ = n;
  }
  std::vector<Received> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }
  // Every POST so far whose event is `type` (and satisfies `match`, when given).
  std::vector<Received> of_type(const std::string& type,
                                const std::function<bool(const json&)>& match = {}) const {
    std::vector<Received> found;
    for (auto& got : received()) {
      if (got.event.is_discarded() || got.event["type"] != type) continue;
      if (match && !match(got.event)) continue;
      found.push_back(got);
    }
    return found;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  int fail_next_ = 0;
  std::vector<Received> received_;
};

void expect_error(const Answer& answer, int status, const std::string& code,
                  const std::string& what) {
  EXPECT_EQ(answer.status, status) << what << ": " << answer.raw;
  ASSERT_FALSE(answer.body.is_discarded()) << what << ": " << answer.raw;
  EXPECT_EQ(answer.body["error"]["code"], code) << what << ": " << answer.raw;
}

// Checks a delivery's headers and signature against the webhook's secret.
void expect_signed_delivery(const Received& got, const std::string& secret,
                            const std::string& type) {
  EXPECT_EQ(got.event_header, type);
  EXPECT_TRUE(got.delivery_header.starts_with("dlv_")) << got.delivery_header;
  EXPECT_TRUE(got.content_type.starts_with("application/json")) << got.content_type;
  ASSERT_FALSE(got.event.is_discarded()) << got.body;
  EXPECT_TRUE(got.event["id"].get<std::string>().starts_with("evt_")) << got.body;
  EXPECT_EQ(got.event["type"], type);
  EXPECT_TRUE(got.event["created_at"].is_string()) << got.body;
  EXPECT_TRUE(got.event["data"].is_object()) << got.body;
  EXPECT_TRUE(verify_signature(got.signature_header, secret, got.body, got.received_unix))
      << got.signature_header << " over " << got.body;
  // A signature under another secret, or of another body, does not verify.
  EXPECT_FALSE(verify_signature(got.signature_header, secret + "x", got.body, got.received_unix));
  EXPECT_FALSE(verify_signature(got.signature_header, secret, got.body + " ", got.received_unix));
}

class WebhooksE2eTest : public ::testing::Test {
 protected:
  void start_server(bool allow_private) {
    std::vector<std::string> args = {
        "--model",       tiny_model().string(),       "--data-dir",   (dir_ / "data").string(),
        "--ingest-root", (dir_ / "imports").string(), "--rate-limit", "0"};
    if (allow_private) args.push_back("--webhook-allow-private");
    server_ = ServerProcess::start(args, {{"LOOKALIKE_ADMIN_API_KEY", kAdminKey}});
    ASSERT_NE(server_, nullptr);
    api_ = std::make_unique<ApiClient>(server_->port(), kAdminKey);
  }

  void TearDown() override {
    if (server_ != nullptr) {
      EXPECT_EQ(server_->stop(), 0) << server_->log();
    }
  }

  // The delivery records of the webhook (newest first).
  json deliveries(const std::string& webhook) {
    auto answer = api_->get("/api/v1/webhooks/" + webhook + "/deliveries");
    EXPECT_EQ(answer.status, 200) << answer.raw;
    return answer.body["items"];
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<ApiClient> api_;
};

TEST_F(WebhooksE2eTest, EventsAreSignedRetriedAndDelivered) {
  make_test_catalogue(dir_ / "imports" / "batch", 5, 1, 61);
  ASSERT_NO_FATAL_FAILURE(start_server(true));
  Receiver receiver;

  auto created = api_->post("/api/v1/webhooks",
                            {{"url", receiver.url()},
                             {"events", {"product.created", "product.deleted", "job.completed"}}});
  ASSERT_EQ(created.status, 201) << created.raw;
  const std::string webhook = created.body["id"];
  const std::string secret = created.body["secret"];
  EXPECT_TRUE(webhook.starts_with("wh_")) << webhook;
  EXPECT_TRUE(secret.starts_with("whsec_")) << secret;
  EXPECT_EQ(created.header("Location"), "/api/v1/webhooks/" + webhook);
  EXPECT_EQ(created.body["url"], receiver.url());
  EXPECT_EQ(created.body["events"], json({"product.created", "product.deleted", "job.completed"}));

  // product.created, with the product as data.
  auto product = api_->post("/api/v1/products",
                            {{"external_id", "hook-1"}, {"title", "Hooked"}, {"price", "12.50"}});
  ASSERT_EQ(product.status, 201) << product.raw;
  auto is_hook_1 = [](const json& event) { return event["data"]["external_id"] == "hook-1"; };
  ASSERT_TRUE(
      eventually([&] { return !receiver.of_type("product.created", is_hook_1).empty(); }, 10s))
      << server_->log();
  {
    auto got = receiver.of_type("product.created", is_hook_1);
    ASSERT_EQ(got.size(), 1u);
    expect_signed_delivery(got[0], secret, "product.created");
    EXPECT_EQ(got[0].event["data"]["id"], product.body["id"]);
    EXPECT_EQ(got[0].event["data"]["title"], "Hooked");
    EXPECT_DOUBLE_EQ(got[0].event["data"]["price"].get<double>(), 12.5);
  }

  // A receiver answering 500 twice gets the next event on the third attempt (backoff 1 s, 2 s).
  receiver.fail_next(2);
  auto retried_at = Clock::now();
  auto second = api_->post("/api/v1/products", {{"external_id", "hook-2"}, {"title", "Retried"}});
  ASSERT_EQ(second.status, 201) << second.raw;
  auto is_hook_2 = [](const json& event) { return event["data"]["external_id"] == "hook-2"; };
  ASSERT_TRUE(eventually(
      [&] {
        auto got = receiver.of_type("product.created", is_hook_2);
        return !got.empty() && got.back().answered == 200;
      },
      15s))
      << server_->log();
  {
    auto got = receiver.of_type("product.created", is_hook_2);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].answered, 500);
    EXPECT_EQ(got[1].answered, 500);
    EXPECT_EQ(got[2].answered, 200);
    for (const auto& attempt : got) {
      expect_signed_delivery(attempt, secret, "product.created");
      // The same event and delivery every time.
      EXPECT_EQ(attempt.event["id"], got[0].event["id"]);
      EXPECT_EQ(attempt.delivery_header, got[0].delivery_header);
    }
    EXPECT_GE(std::chrono::duration<double>(Clock::now() - retried_at).count(), 1.0)
        << "retried without backing off";
    const std::string delivery_id = got[0].delivery_header;
    json record;
    ASSERT_TRUE(eventually(
        [&] {
          for (const auto& item : deliveries(webhook)) {
            if (item["id"] == delivery_id) record = item;
          }
          return record.is_object() && record["state"] == "delivered";
        },
        5s))
        << record.dump();
    EXPECT_EQ(record["attempts"], 3) << record.dump();
    EXPECT_EQ(record["status_code"], 200) << record.dump();
    EXPECT_TRUE(record["last_error"].is_null()) << record.dump();
    EXPECT_EQ(record["event_type"], "product.created");
    EXPECT_EQ(record["event_id"], got[0].event["id"]);
    EXPECT_EQ(record["webhook_id"], webhook);
  }

  // An ingest job completing: job.completed with the job as data.
  auto job = api_->post("/api/v1/jobs/ingest", {{"source", "batch"}});
  ASSERT_EQ(job.status, 202) << job.raw;
  const std::string job_id = job.body["id"];
  auto is_job = [&](const json& event) { return event["data"]["id"] == job_id; };
  ASSERT_TRUE(eventually([&] { return !receiver.of_type("job.completed", is_job).empty(); }, 15s))
      << server_->log();
  {
    auto got = receiver.of_type("job.completed", is_job);
    ASSERT_EQ(got.size(), 1u);
    expect_signed_delivery(got[0], secret, "job.completed");
    EXPECT_EQ(got[0].event["data"]["state"], "completed");
    EXPECT_EQ(got[0].event["data"]["kind"], "ingest");
    EXPECT_EQ(got[0].event["data"]["result"]["ingested"], 5) << got[0].body;
  }

  // product.updated is not subscribed; product.deleted carries the ids only.
  auto patched = api_->send("PATCH", "/api/v1/products/hook-1", R"({"title": "Renamed"})");
  ASSERT_EQ(patched.status, 200) << patched.raw;
  auto removed = api_->send("DELETE", "/api/v1/products/hook-1");
  ASSERT_EQ(removed.status, 204) << removed.raw;
  ASSERT_TRUE(
      eventually([&] { return !receiver.of_type("product.deleted", is_hook_1).empty(); }, 10s))
      << server_->log();
  {
    auto got = receiver.of_type("product.deleted", is_hook_1);
    ASSERT_EQ(got.size(), 1u);
    expect_signed_delivery(got[0], secret, "product.deleted");
    EXPECT_EQ(got[0].event["data"], json({{"id", product.body["id"]}, {"external_id", "hook-1"}}))
        << got[0].body;
  }
  EXPECT_TRUE(receiver.of_type("product.updated").empty());
  // hook-1, hook-2 (3 attempts), the job, the deletion (products ingested by a job announce only
  // the job).
  EXPECT_EQ(receiver.received().size(), 1u + 3 + 1 + 1);

  // The records: newest first, every one delivered, none showing the secret.
  json records = deliveries(webhook);
  ASSERT_EQ(records.size(), 4u) << records.dump();
  EXPECT_EQ(records[0]["event_type"], "product.deleted") << records.dump();
  for (const auto& record : records) {
    EXPECT_EQ(record["state"], "delivered") << record.dump();
  }
  EXPECT_EQ(records.dump().find(secret), std::string::npos);

  auto listed = api_->get("/api/v1/webhooks");
  ASSERT_EQ(listed.status, 200) << listed.raw;
  ASSERT_EQ(listed.body["items"].size(), 1u) << listed.raw;
  EXPECT_EQ(listed.body["items"][0]["id"], webhook);
  EXPECT_FALSE(listed.body["items"][0].contains("secret")) << listed.raw;
  EXPECT_EQ(listed.raw.find(secret), std::string::npos);
  auto one = api_->get("/api/v1/webhooks/" + webhook);
  ASSERT_EQ(one.status, 200) << one.raw;
  EXPECT_FALSE(one.body.contains("secret")) << one.raw;
  EXPECT_EQ(one.body["url"], receiver.url());

  auto gone = api_->send("DELETE", "/api/v1/webhooks/" + webhook);
  EXPECT_EQ(gone.status, 204) << gone.raw;
  expect_error(api_->get("/api/v1/webhooks/" + webhook), 404, "not_found", "deleted webhook");
  expect_error(api_->send("DELETE", "/api/v1/webhooks/" + webhook), 404, "not_found",
               "deleted twice");
  expect_error(api_->get("/api/v1/webhooks/" + webhook + "/deliveries"), 404, "not_found",
               "deliveries of a deleted webhook");
  // Nothing is sent to a removed webhook.
  const auto before = receiver.received().size();
  ASSERT_EQ(
      api_->post("/api/v1/products", {{"external_id", "hook-3"}, {"title", "Unheard"}}).status,
      201);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(receiver.received().size(), before);
}

TEST_F(WebhooksE2eTest, RegistrationsAreCheckedAndSecretsShownOnce) {
  ASSERT_NO_FATAL_FAILURE(start_server(false));
  Receiver receiver;

  // Without --webhook-allow-private, loopback and private targets are refused.
  for (const std::string& url :
       {receiver.url(), std::string("http://10.1.2.3/hook"),
        std::string("http://192.168.0.10:8080/hook"), std::string("http://[::1]:9/hook"),
        std::string("http://127.1/x")}) {
    auto refused = api_->post("/api/v1/webhooks", {{"url", url}, {"events", {"product.created"}}});
    expect_error(refused, 400, "invalid_argument", url);
    EXPECT_NE(refused.raw.find("private network"), std::string::npos) << url << ": " << refused.raw;
  }
  expect_error(api_->post("/api/v1/webhooks",
                          {{"url", "https://93.184.216.34/hook"}, {"events", {"order.paid"}}}),
               400, "invalid_argument", "unknown event");
  expect_error(api_->post("/api/v1/webhooks",
                          {{"url", "https://93.184.216.34/hook"}, {"events", json::array()}}),
               400, "invalid_argument", "no events");
  expect_error(api_->post("/api/v1/webhooks", {{"url", "https://93.184.216.34/hook"}}), 400,
               "invalid_argument", "events missing");
  expect_error(api_->post("/api/v1/webhooks",
                          {{"url", "ftp://93.184.216.34/hook"}, {"events", {"product.created"}}}),
               400, "invalid_argument", "ftp");
  expect_error(api_->post("/api/v1/webhooks", {{"url", "https://93.184.216.34/hook"},
                                               {"events", {"product.created"}},
                                               {"retries", 3}}),
               400, "invalid_argument", "unknown field");
  expect_error(api_->send("POST", "/api/v1/webhooks", "{\"url\": "), 400, "malformed_json",
               "truncated JSON");
  expect_error(
      api_->post("/api/v1/webhooks",
                 {{"url", "https://93.184.216.34/hook"}, {"events", {"product.created"}}}, ""),
      401, "unauthorized", "no key");

  // A public target (an address: no DNS needed) with a secret of its own.
  auto created = api_->post("/api/v1/webhooks", {{"url", "https://93.184.216.34/hook"},
                                                 {"events", {"job.completed", "job.failed"}},
                                                 {"secret", "my-own-secret-123"}});
  ASSERT_EQ(created.status, 201) << created.raw;
  EXPECT_EQ(created.body["secret"], "my-own-secret-123");
  const std::string id = created.body["id"];
  auto listed = api_->get("/api/v1/webhooks");
  ASSERT_EQ(listed.status, 200) << listed.raw;
  ASSERT_EQ(listed.body["items"].size(), 1u) << listed.raw;
  EXPECT_FALSE(listed.body["items"][0].contains("secret")) << listed.raw;
  EXPECT_EQ(listed.raw.find("my-own-secret-123"), std::string::npos) << listed.raw;
  auto one = api_->get("/api/v1/webhooks/" + id);
  ASSERT_EQ(one.status, 200) << one.raw;
  EXPECT_EQ(one.raw.find("my-own-secret-123"), std::string::npos) << one.raw;
  EXPECT_EQ(one.body["events"], json({"job.completed", "job.failed"}));
  auto records = api_->get("/api/v1/webhooks/" + id + "/deliveries");
  ASSERT_EQ(records.status, 200) << records.raw;
  EXPECT_EQ(records.body["items"], json::array());

  EXPECT_EQ(api_->send("DELETE", "/api/v1/webhooks/" + id).status, 204);
  expect_error(api_->get("/api/v1/webhooks/" + id), 404, "not_found", "after DELETE");
  expect_error(api_->send("DELETE", "/api/v1/webhooks/" + id), 404, "not_found", "DELETE twice");
  EXPECT_EQ(api_->get("/api/v1/webhooks").body["items"], json::array());
  EXPECT_TRUE(receiver.received().empty());
}

}  // namespace
}  // namespace lookalike::testing
