#include "webhooks/webhook.h"

#include <algorithm>
#include <ctime>

#include "webhooks/url_policy.h"

namespace lookalike {

namespace {

Error corrupt(const std::string& what, const std::string& field) {
  return make_error(ErrorCode::kCorruptData, what + ": missing or invalid \"" + field + "\"");
}

bool read_string(const nlohmann::json& json, const char* field, std::string& out) {
  auto it = json.find(field);
  if (it == json.end() || !it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

std::string known_events() {
  std::string list;
  for (auto event : kWebhookEvents) {
    if (!list.empty()) list += ", ";
    list += event;
  }
  return list;
}

}  // namespace

bool is_webhook_event(std::string_view event_type) {
  return std::find(kWebhookEvents.begin(), kWebhookEvents.end(), event_type) !=
         kWebhookEvents.end();
}

bool Webhook::subscribes_to(std::string_view event_type) const {
  return std::find(events.begin(), events.end(), event_type) != events.end();
}

nlohmann::json webhook_to_json(const Webhook& webhook, bool include_secret) {
  nlohmann::json json = {{"id", webhook.id},
                         {"url", webhook.url},
                         {"events", webhook.events},
                         {"created_at", webhook.created_at}};
  if (include_secret) json["secret"] = webhook.secret;
  return json;
}

Result<Webhook> webhook_from_json(const nlohmann::json& json) {
  if (!json.is_object()) return make_error(ErrorCode::kCorruptData, "webhook is not an object");
  Webhook webhook;
  if (!read_string(json, "id", webhook.id)) return corrupt("webhook", "id");
  std::string what = "webhook " + webhook.id;
  if (!read_string(json, "url", webhook.url)) return corrupt(what, "url");
  if (!read_string(json, "secret", webhook.secret)) return corrupt(what, "secret");
  if (!read_string(json, "created_at", webhook.created_at)) return corrupt(what, "created_at");
  auto events = json.find("events");
  if (events == json.end() || !events->is_array()) return corrupt(what, "events");
  for (const auto& event : *events) {
    if (!event.is_string()) return corrupt(what, "events");
    webhook.events.push_back(event.get<std::string>());
  }
  return webhook;
}

nlohmann::json delivery_to_json(const Delivery& delivery) {
  return {{"id", delivery.id},
          {"webhook_id", delivery.webhook_id},
          {"event_id", delivery.event_id},
          {"event_type", delivery.event_type},
          {"state", delivery.state},
          {"attempts", delivery.attempts},
          {"status_code",
           delivery.status_code ? nlohmann::json(*delivery.status_code) : nlohmann::json()},
          {"last_error",
           delivery.last_error.empty() ? nlohmann::json() : nlohmann::json(delivery.last_error)},
          {"created_at", delivery.created_at},
          {"updated_at", delivery.updated_at}};
}

Result<Delivery> delivery_from_json(const nlohmann::json& json) {
  if (!json.is_object()) return make_error(ErrorCode::kCorruptData, "delivery is not an object");
  Delivery delivery;
  if (!read_string(json, "id", delivery.id)) return corrupt("delivery", "id");
  std::string what = "delivery " + delivery.id;
  for (auto [field, out] :
       {std::pair{"webhook_id", &delivery.webhook_id}, std::pair{"event_id", &delivery.event_id},
        std::pair{"event_type", &delivery.event_type}, std::pair{"state", &delivery.state},
        std::pair{"created_at", &delivery.created_at},
        std::pair{"updated_at", &delivery.updated_at}}) {
    if (!read_string(json, field, *out)) return corrupt(what, field);
  }
  if (delivery.state != "pending" && delivery.state != "delivered" && delivery.state != "failed") {
    return corrupt(what, "state");
  }
  auto attempts = json.find("attempts");
  if (attempts == json.end() || !attempts->is_number_integer()) return corrupt(what, "attempts");
  delivery.attempts = attempts->get<int>();
  auto status = json.find("status_code");
  if (status != json.end() && status->is_number_integer())
    delivery.status_code = status->get<int>();
  auto error = json.find("last_error");
  if (error != json.end() && error->is_string()) delivery.last_error = error->get<std::string>();
  return delivery;
}

Status validate_webhook_request(const std::string& url, const std::vector<std::string>& events) {
  auto parsed = parse_webhook_url(url);
  if (!parsed) return parsed.error();
  if (events.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "webhook needs at least one event (" + known_events() + ")");
  }
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (!is_webhook_event(events[i])) {
      return make_error(ErrorCode::kInvalidArgument,
                        "unknown webhook event '" + events[i] + "'; known: " + known_events());
    }
    if (std::find(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(i), events[i]) !=
        events.begin() + static_cast<std::ptrdiff_t>(i)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "webhook event '" + events[i] + "' is listed twice");
    }
  }
  return ok_status();
}

std::string utc_timestamp_now() {
  std::time_t seconds = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return std::string(buffer, n);
}

}  // namespace lookalike
