// The webhook data model: a registered endpoint (Webhook), one event's delivery to it (Delivery),
// their JSON forms for the API and the registry file, the events one can subscribe to, and the
// checks of a registration request. Plain values; no shared state.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace lookalike {

inline constexpr std::array<std::string_view, 5> kWebhookEvents = {
    "product.created", "product.updated", "product.deleted", "job.completed", "job.failed"};

bool is_webhook_event(std::string_view event_type);

struct Webhook {
  std::string id;  // "wh_" + 16 hex
  std::string url;
  std::vector<std::string> events;
  std::string secret;      // signs every delivery; shown only when the webhook is created
  std::string created_at;  // RFC 3339 UTC, "2024-05-01T12:00:00Z"

  bool subscribes_to(std::string_view event_type) const;
};

struct Delivery {
  std::string id;  // "dlv_" + 24 hex
  std::string webhook_id;
  std::string event_id;  // "evt_" + 24 hex
  std::string event_type;
  std::string state = "pending";  // "pending" | "delivered" | "failed"
  int attempts = 0;
  std::optional<int> status_code;  // of the last attempt that got an HTTP answer
  std::string last_error;          // empty once delivered
  std::string created_at;
  std::string updated_at;
};

// {"id", "url", "events", "created_at"} plus "secret" when include_secret.
nlohmann::json webhook_to_json(const Webhook& webhook, bool include_secret);
// The registry file's form (secret included); kCorruptData naming the missing or bad field.
Result<Webhook> webhook_from_json(const nlohmann::json& json);

// {"id", "webhook_id", "event_id", "event_type", "state", "attempts", "status_code" (or null),
// "last_error" (or null), "created_at", "updated_at"}.
nlohmann::json delivery_to_json(const Delivery& delivery);
Result<Delivery> delivery_from_json(const nlohmann::json& json);

// kInvalidArgument unless `url` is http(s) without user information, at most 2048 bytes, and
// `events` is a non-empty list of known events without repeats. Syntax only: whether the host is
// public is resolve_target()'s question (url_policy.h).
Status validate_webhook_request(const std::string& url, const std::vector<std::string>& events);

// Now as RFC 3339 UTC with second precision, the form of every created_at.
std::string utc_timestamp_now();

}  // namespace lookalike
