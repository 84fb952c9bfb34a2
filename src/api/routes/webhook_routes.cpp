// /api/v1/webhooks: register, list, read and remove webhooks; read their delivery records.
#include "api/request_parsing.h"
#include "api/routes/routes.h"
#include "webhooks/url_policy.h"
#include "webhooks/webhook.h"

namespace lookalike::api {

namespace {

void create_webhook(RouteContext& ctx) {
  auto body = parse_json_object(ctx.request.body);
  if (!body) return send_error(ctx.response, request_http_error_for(body.error()));
  for (const auto& [key, value] : body->items()) {
    if (key != "url" && key != "events" && key != "secret") {
      return send_error(ctx.response,
                        make_http_error(400, "invalid_argument", "unknown field \"" + key + "\""));
    }
  }
  if (!body->contains("url") || !(*body)["url"].is_string()) {
    return send_error(ctx.response,
                      make_http_error(400, "invalid_argument", "url: required, a string"));
  }
  std::vector<std::string> events;
  if (!body->contains("events") || !(*body)["events"].is_array()) {
    return send_error(ctx.response, make_http_error(400, "invalid_argument",
                                                    "events: required, a list of event names"));
  }
  for (const auto& event : (*body)["events"]) {
    if (!event.is_string()) {
      return send_error(ctx.response,
                        make_http_error(400, "invalid_argument", "events: must be strings"));
    }
    events.push_back(event.get<std::string>());
  }
  std::string secret;
  if (body->contains("secret") && !(*body)["secret"].is_null()) {
    if (!(*body)["secret"].is_string()) {
      return send_error(ctx.response,
                        make_http_error(400, "invalid_argument", "secret: must be a string"));
    }
    secret = (*body)["secret"].get<std::string>();
  }
  const auto url = (*body)["url"].get<std::string>();
  if (auto status = validate_webhook_request(url, events); !status) {
    return send_error(ctx.response, request_http_error_for(status.error()));
  }
  // Refused now when the target is not public, so a mistake shows at registration.
  if (auto target = resolve_target(url, ctx.config.webhook_allow_private); !target) {
    return send_error(ctx.response,
                      make_http_error(400, "invalid_argument", "url: " + target.error().message));
  }
  auto webhook = ctx.services->webhooks->add(url, events, secret);
  if (!webhook) return send_error(ctx.response, request_http_error_for(webhook.error()));
  ctx.response.set_header("Location", "/api/v1/webhooks/" + webhook->id);
  send_unordered_json(ctx.response, 201, webhook_to_json(*webhook, true));
}

void list_webhooks(RouteContext& ctx) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& webhook : ctx.services->webhooks->list()) {
    items.push_back(webhook_to_json(webhook, false));
  }
  send_unordered_json(ctx.response, 200, {{"items", std::move(items)}});
}

void get_webhook(RouteContext& ctx) {
  auto webhook = ctx.services->webhooks->get(ctx.params[0]);
  if (!webhook) return send_error(ctx.response, http_error_for(webhook.error()));
  send_unordered_json(ctx.response, 200, webhook_to_json(*webhook, false));
}

void delete_webhook(RouteContext& ctx) {
  if (auto status = ctx.services->webhooks->remove(ctx.params[0]); !status) {
    return send_error(ctx.response, http_error_for(status.error()));
  }
  send_no_content(ctx.response);
}

void list_deliveries(RouteContext& ctx) {
  auto deliveries = ctx.services->webhooks->deliveries(ctx.params[0]);
  if (!deliveries) return send_error(ctx.response, http_error_for(deliveries.error()));
  nlohmann::json items = nlohmann::json::array();
  for (const auto& delivery : *deliveries) items.push_back(delivery_to_json(delivery));
  send_unordered_json(ctx.response, 200, {{"items", std::move(items)}});
}

}  // namespace

void add_webhook_routes(Router& router) {
  router.add("POST", "/api/v1/webhooks", Access::kAdmin, create_webhook);
  router.add("GET", "/api/v1/webhooks", Access::kAdmin, list_webhooks);
  router.add("GET", "/api/v1/webhooks/{id}", Access::kAdmin, get_webhook);
  router.add("DELETE", "/api/v1/webhooks/{id}", Access::kAdmin, delete_webhook);
  router.add("GET", "/api/v1/webhooks/{id}/deliveries", Access::kAdmin, list_deliveries);
}

}  // namespace lookalike::api
