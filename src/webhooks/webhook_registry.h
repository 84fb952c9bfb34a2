// WebhookRegistry: the registered webhooks, persisted in one JSON file (DATA/webhooks.json, mode
// 0600: it holds the signing secrets), and the last deliveries of each webhook, persisted in the
// sibling file "<stem>.deliveries.json" (DATA/webhooks.deliveries.json).
// Both files are replaced atomically (temporary file, fsync, rename, fsync of the directory).
// Webhooks are written on every change before the change is visible; delivery records, which
// change on every attempt, are written at most once per delivery_flush_interval and by flush()
// (the dispatcher flushes whenever it runs out of work, and at stop) and on destruction.
// Thread-safety: every method may be called from any thread (one mutex). One registry per file.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "webhooks/webhook.h"

namespace lookalike {

struct WebhookRegistryOptions {
  std::size_t deliveries_per_webhook = 100;  // older records are dropped
  std::chrono::milliseconds delivery_flush_interval{1000};
};

class WebhookRegistry {
 public:
  // Loads `path` and its deliveries file when they exist (a missing file is an empty registry;
  // its directory is created). A file that does not parse is kCorruptData naming it: it is never
  // silently emptied. Deliveries still "pending" in the file were cut short by a stop without
  // shutdown and are loaded as "failed".
  static Result<std::unique_ptr<WebhookRegistry>> open(const std::filesystem::path& path,
                                                       WebhookRegistryOptions options = {});
  ~WebhookRegistry();
  WebhookRegistry(const WebhookRegistry&) = delete;
  WebhookRegistry& operator=(const WebhookRegistry&) = delete;

  // Validates (validate_webhook_request), assigns the id and created_at, generates the secret
  // when `secret` is empty (a given one must be 8 to 256 printable ASCII characters) and persists.
  // It does not resolve the host: callers check resolve_target() at registration.
  Result<Webhook> add(const std::string& url, const std::vector<std::string>& events,
                      const std::string& secret = "");
  std::vector<Webhook> list() const;                 // in creation order
  Result<Webhook> get(const std::string& id) const;  // kNotFound
  Status remove(const std::string& id);              // kNotFound; drops its delivery records too
  std::vector<Webhook> subscribers(std::string_view event_type) const;

  // A new delivery record, newest of its webhook (kNotFound when the webhook is gone).
  Status add_delivery(const Delivery& delivery);
  // Replaces the record with the same id; a record no longer kept (or of a removed webhook) is
  // ignored.
  Status update_delivery(const Delivery& delivery);
  // The kept records, newest first; kNotFound for an unknown webhook.
  Result<std::vector<Delivery>> deliveries(const std::string& webhook_id) const;

  // Writes the delivery records if they changed since the last write.
  Status flush();

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& deliveries_path() const { return deliveries_path_; }

 private:
  WebhookRegistry(std::filesystem::path path, WebhookRegistryOptions options);
  Status load();
  Status write_webhooks(const std::vector<Webhook>& webhooks) const;
  Status write_deliveries_locked();
  Status maybe_write_deliveries_locked();

  const std::filesystem::path path_;
  const std::filesystem::path deliveries_path_;
  const WebhookRegistryOptions options_;
  mutable std::mutex mutex_;
  std::vector<Webhook> webhooks_;
  std::map<std::string, std::deque<Delivery>> deliveries_;  // by webhook id, oldest first
  bool deliveries_dirty_ = false;
  std::chrono::steady_clock::time_point last_deliveries_write_{};
};

}  // namespace lookalike
