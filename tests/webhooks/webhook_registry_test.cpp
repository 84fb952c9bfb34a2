#include "webhooks/webhook_registry.h"

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "core/file_util.h"
#include "test_support.h"

namespace lookalike {
namespace {

using lookalike::testing::TempDir;

std::unique_ptr<WebhookRegistry> open_registry(const std::filesystem::path& path,
                                               WebhookRegistryOptions options = {}) {
  auto registry = WebhookRegistry::open(path, options);
  EXPECT_TRUE(registry.ok()) << registry.error().to_string();
  return registry.ok() ? std::move(*registry) : nullptr;
}

Delivery make_delivery(const std::string& webhook_id, int n) {
  Delivery d;
  d.id = "dlv_" + std::to_string(n);
  d.webhook_id = webhook_id;
  d.event_id = "evt_" + std::to_string(n);
  d.event_type = "product.created";
  d.created_at = d.updated_at = "2024-05-01T12:00:00Z";
  return d;
}

TEST(WebhookRegistry, AddListGetRemove) {
  TempDir dir;
  auto registry = open_registry(dir / "data/webhooks.json");
  ASSERT_TRUE(registry);
  EXPECT_TRUE(registry->list().empty());
  auto a = registry->add("https://example.com/a", {"product.created", "job.failed"});
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  EXPECT_EQ(a->id.size(), 3u + 16u);
  EXPECT_EQ(a->id.rfind("wh_", 0), 0u);
  EXPECT_EQ(a->secret.rfind("whsec_", 0), 0u);
  EXPECT_EQ(a->created_at.size(), 20u);
  auto b = registry->add("https://example.com/b", {"job.failed"}, "my-own-secret");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->secret, "my-own-secret");

  EXPECT_EQ(registry->list().size(), 2u);
  EXPECT_EQ(registry->list()[0].id, a->id);
  EXPECT_EQ(registry->get(b->id)->url, "https://example.com/b");
  EXPECT_EQ(registry->subscribers("job.failed").size(), 2u);
  EXPECT_EQ(registry->subscribers("product.created").size(), 1u);
  EXPECT_TRUE(registry->subscribers("product.deleted").empty());

  ASSERT_TRUE(registry->remove(a->id).ok());
  EXPECT_EQ(registry->get(a->id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(registry->remove(a->id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(registry->list().size(), 1u);
}

TEST(WebhookRegistry, RejectsInvalidRequests) {
  TempDir dir;
  auto registry = open_registry(dir / "webhooks.json");
  EXPECT_EQ(registry->add("ftp://example.com", {"job.failed"}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(registry->add("https://example.com", {"job.exploded"}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(registry->add("https://example.com", {"job.failed"}, "short").error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(registry->list().empty());
  EXPECT_FALSE(std::filesystem::exists(dir / "webhooks.json"));
}

TEST(WebhookRegistry, PersistsAndReloads) {
  TempDir dir;
  auto path = dir / "webhooks.json";
  std::string id;
  {
    auto registry = open_registry(path);
    auto a = registry->add("https://example.com/a", {"product.updated"}, "secret-of-a");
    ASSERT_TRUE(a.ok());
    id = a->id;
    ASSERT_TRUE(registry->add("https://example.com/b", {"job.completed"}).ok());
    ASSERT_TRUE(registry->remove(registry->list()[1].id).ok());
    // Written on every change: the file is complete before the registry goes away.
    auto json = read_json_file(path);
    ASSERT_TRUE(json.ok());
    EXPECT_EQ((*json)["webhooks"].size(), 1u);
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the file holds secrets";
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().string().find(".tmp-"), std::string::npos) << entry.path();
  }

  auto reopened = open_registry(path);
  auto list = reopened->list();
  ASSERT_EQ(list.size(), 1u);
  const auto& w = list[0];
  EXPECT_EQ(w.id, id);
  EXPECT_EQ(w.url, "https://example.com/a");
  EXPECT_EQ(w.events, std::vector<std::string>{"product.updated"});
  EXPECT_EQ(w.secret, "secret-of-a");
}

TEST(WebhookRegistry, CorruptFileIsAnErrorNamingItAndIsLeftAlone) {
  TempDir dir;
  auto path = dir / "webhooks.json";
  lookalike::testing::write_bytes(path, "{\"webhooks\": [ {\"id\": \"wh_1\"");
  auto registry = WebhookRegistry::open(path);
  ASSERT_FALSE(registry.ok());
  EXPECT_EQ(registry.error().code, ErrorCode::kCorruptData);
  EXPECT_NE(registry.error().message.find(path.string()), std::string::npos);
  EXPECT_EQ(lookalike::testing::read_bytes(path), "{\"webhooks\": [ {\"id\": \"wh_1\"");

  lookalike::testing::write_bytes(path, R"({"webhooks": [{"id": "wh_1", "url": 5}]})");
  auto bad_field = WebhookRegistry::open(path);
  ASSERT_FALSE(bad_field.ok());
  EXPECT_EQ(bad_field.error().code, ErrorCode::kCorruptData);
  EXPECT_NE(bad_field.error().message.find("url"), std::string::npos);

  lookalike::testing::write_bytes(path, R"({"webhooks": []})");
  lookalike::testing::write_bytes(dir / "webhooks.deliveries.json", "not json");
  auto bad_deliveries = WebhookRegistry::open(path);
  ASSERT_FALSE(bad_deliveries.ok());
  EXPECT_EQ(bad_deliveries.error().code, ErrorCode::kCorruptData);
  EXPECT_NE(bad_deliveries.error().message.find("webhooks.deliveries.json"), std::string::npos);
}

TEST(WebhookRegistry, DeliveriesNewestFirstCappedAndPersisted) {
  TempDir dir;
  auto path = dir / "webhooks.json";
  std::string id;
  {
    auto registry = open_registry(path);
    auto w = registry->add("https://example.com/a", {"product.created"});
    ASSERT_TRUE(w.ok());
    id = w->id;
    for (int i = 0; i < 105; ++i) ASSERT_TRUE(registry->add_delivery(make_delivery(id, i)).ok());
    auto updated = make_delivery(id, 104);
    updated.state = "delivered";
    updated.attempts = 2;
    updated.status_code = 204;
    ASSERT_TRUE(registry->update_delivery(updated).ok());
    // An evicted record's update is ignored rather than re-added.
    auto evicted = make_delivery(id, 0);
    evicted.state = "failed";
    ASSERT_TRUE(registry->update_delivery(evicted).ok());

    auto list = registry->deliveries(id);
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->size(), 100u);
    EXPECT_EQ(list->front().id, "dlv_104");
    EXPECT_EQ(list->front().state, "delivered");
    EXPECT_EQ(list->front().status_code, 204);
    EXPECT_EQ(list->back().id, "dlv_5");
    EXPECT_EQ(registry->deliveries("wh_nope").error().code, ErrorCode::kNotFound);
    EXPECT_EQ(registry->add_delivery(make_delivery("wh_nope", 1)).error().code,
              ErrorCode::kNotFound);
  }
  auto reopened = open_registry(path);
  auto list = reopened->deliveries(id);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 100u);
  EXPECT_EQ(list->front().id, "dlv_104");
  EXPECT_EQ(list->front().attempts, 2);
  // Still pending when the process went away: loaded as failed, never left pending forever.
  EXPECT_EQ((*list)[1].id, "dlv_103");
  EXPECT_EQ((*list)[1].state, "failed");
  EXPECT_NE((*list)[1].last_error.find("interrupted"), std::string::npos);
}

TEST(WebhookRegistry, DeliveryWritesAreThrottledUntilFlush) {
  TempDir dir;
  auto path = dir / "webhooks.json";
  WebhookRegistryOptions options;
  options.delivery_flush_interval = std::chrono::hours(1);
  auto registry = open_registry(path, options);
  auto w = registry->add("https://example.com/a", {"product.created"});
  ASSERT_TRUE(registry->add_delivery(make_delivery(w->id, 1)).ok());  // first write is at once
  ASSERT_TRUE(registry->add_delivery(make_delivery(w->id, 2)).ok());
  auto deliveries_path = registry->deliveries_path();
  EXPECT_EQ(deliveries_path, dir / "webhooks.deliveries.json");
  EXPECT_EQ((*read_json_file(deliveries_path))["deliveries"][w->id].size(), 1u);
  ASSERT_TRUE(registry->flush().ok());
  EXPECT_EQ((*read_json_file(deliveries_path))["deliveries"][w->id].size(), 2u);
}

TEST(WebhookRegistry, RemovingAWebhookDropsItsDeliveries) {
  TempDir dir;
  auto registry = open_registry(dir / "webhooks.json");
  auto a = registry->add("https://example.com/a", {"product.created"});
  auto b = registry->add("https://example.com/b", {"product.created"});
  ASSERT_TRUE(registry->add_delivery(make_delivery(a->id, 1)).ok());
  ASSERT_TRUE(registry->add_delivery(make_delivery(b->id, 2)).ok());
  ASSERT_TRUE(registry->remove(a->id).ok());
  ASSERT_TRUE(registry->flush().ok());
  auto json = read_json_file(registry->deliveries_path());
  ASSERT_TRUE(json.ok());
  EXPECT_FALSE((*json)["deliveries"].contains(a->id));
  EXPECT_EQ((*json)["deliveries"][b->id].size(), 1u);
}

TEST(WebhookJson, RoundTrips) {
  Webhook w{"wh_0123456789abcdef",
            "https://example.com",
            {"job.failed"},
            "whsec_x",
            "2024-05-01T12:00:00Z"};
  EXPECT_FALSE(webhook_to_json(w, false).contains("secret"));
  auto back = webhook_from_json(webhook_to_json(w, true));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->secret, "whsec_x");
  Delivery d = make_delivery("wh_1", 3);
  auto json = delivery_to_json(d);
  EXPECT_TRUE(json["status_code"].is_null());
  EXPECT_TRUE(json["last_error"].is_null());
  d.status_code = 500;
  d.last_error = "HTTP 500";
  auto again = delivery_from_json(delivery_to_json(d));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status_code, 500);
  EXPECT_EQ(again->last_error, "HTTP 500");
}

}  // namespace
}  // namespace lookalike
