#include "webhooks/webhook_registry.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "core/file_util.h"
#include "webhooks/signature.h"

namespace lookalike {

namespace {

constexpr int kFormatVersion = 1;

Error io_error(const std::filesystem::path& path, const std::string& what, int error) {
  return make_error(ErrorCode::kIoError, path.string() + ": " + what + ": " + std::strerror(error));
}

// Temporary file, fsync, rename over `path`, fsync of the directory: after a crash the file holds
// either the old or the new contents, never a mix. Mode 0600: the webhooks file holds secrets.
Status write_durably(const std::filesystem::path& path, const std::string& contents) {
  auto tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error(tmp, "cannot create", errno);
  for (std::size_t done = 0; done < contents.size();) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int saved = n < 0 ? errno : EIO;
      ::close(fd);
      ::unlink(tmp.c_str());
      return io_error(tmp, "write failed", saved);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int saved = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return io_error(tmp, "fsync failed", saved);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    return io_error(path, "rename failed", saved);
  }
  auto directory = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);  // best effort: the rename is done either way
    ::close(dir_fd);
  }
  return ok_status();
}

// The parsed file, nullopt when it does not exist; kCorruptData when it is not a JSON object.
Result<std::optional<nlohmann::json>> read_optional_json(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<nlohmann::json>();
  auto json = read_json_file(path);
  if (!json) return json.error();
  if (!json->is_object()) {
    return make_error(ErrorCode::kCorruptData, path.string() + ": not a JSON object");
  }
  return std::optional<nlohmann::json>(std::move(*json));
}

Error corrupt_file(const std::filesystem::path& path, const std::string& message) {
  return make_error(
      ErrorCode::kCorruptData,
      path.string() + ": " + message + " (fix or move the file away; it was left as it is)");
}

bool is_valid_secret(const std::string& secret) {
  return secret.size() >= 8 && secret.size() <= 256 &&
         std::all_of(secret.begin(), secret.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

}  // namespace

WebhookRegistry::WebhookRegistry(std::filesystem::path path, WebhookRegistryOptions options)
    : path_(std::move(path)),
      deliveries_path_(path_.parent_path() / (path_.stem().string() + ".deliveries.json")),
      options_(options) {}

WebhookRegistry::~WebhookRegistry() { (void)flush(); }

Result<std::unique_ptr<WebhookRegistry>> WebhookRegistry::open(const std::filesystem::path& path,
                                                               WebhookRegistryOptions options) {
  if (!path.parent_path().empty()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return make_error(ErrorCode::kIoError,
                        path.parent_path().string() + ": cannot create: " + ec.message());
    }
  }
  std::unique_ptr<WebhookRegistry> registry(new WebhookRegistry(path, options));
  if (auto loaded = registry->load(); !loaded) return loaded.error();
  return registry;
}

Status WebhookRegistry::load() {
  auto file = read_optional_json(path_);
  if (!file) return file.error();
  if (*file) {
    const auto& json = **file;
    auto items = json.find("webhooks");
    if (items == json.end() || !items->is_array()) {
      return corrupt_file(path_, "missing the \"webhooks\" list");
    }
    for (const auto& item : *items) {
      auto webhook = webhook_from_json(item);
      if (!webhook) return corrupt_file(path_, webhook.error().message);
      webhooks_.push_back(std::move(*webhook));
    }
  }
  auto records = read_optional_json(deliveries_path_);
  if (!records) return records.error();
  if (!*records) return ok_status();
  auto by_webhook = (*records)->find("deliveries");
  if (by_webhook == (*records)->end() || !by_webhook->is_object()) {
    return corrupt_file(deliveries_path_, "missing the \"deliveries\" object");
  }
  for (const auto& [webhook_id, list] : by_webhook->items()) {
    if (!list.is_array()) return corrupt_file(deliveries_path_, webhook_id + " is not a list");
    bool known = std::any_of(webhooks_.begin(), webhooks_.end(),
                             [&](const Webhook& w) { return w.id == webhook_id; });
    for (const auto& item : list) {
      auto delivery = delivery_from_json(item);
      if (!delivery) return corrupt_file(deliveries_path_, delivery.error().message);
      if (!known) continue;  // removed before the records were written again
      if (delivery->state == "pending") {
        delivery->state = "failed";
        delivery->last_error = "interrupted: lookalike stopped before this delivery finished";
        deliveries_dirty_ = true;
      }
      auto& kept = deliveries_[webhook_id];
      kept.push_back(std::move(*delivery));
      if (kept.size() > options_.deliveries_per_webhook) kept.pop_front();
    }
  }
  return ok_status();
}

Status WebhookRegistry::write_webhooks(const std::vector<Webhook>& webhooks) const {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& webhook : webhooks) items.push_back(webhook_to_json(webhook, true));
  nlohmann::json json = {{"version", kFormatVersion}, {"webhooks", std::move(items)}};
  return write_durably(path_, json.dump(2) + "\n");
}

Status WebhookRegistry::write_deliveries_locked() {
  nlohmann::json by_webhook = nlohmann::json::object();
  for (const auto& [webhook_id, list] : deliveries_) {
    auto& items = by_webhook[webhook_id] = nlohmann::json::array();
    for (const auto& delivery : list) items.push_back(delivery_to_json(delivery));
  }
  nlohmann::json json = {{"version", kFormatVersion}, {"deliveries", std::move(by_webhook)}};
  auto written = write_durably(
      deliveries_path_, json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  last_deliveries_write_ = std::chrono::steady_clock::now();
  if (written) deliveries_dirty_ = false;
  return written;
}

Status WebhookRegistry::maybe_write_deliveries_locked() {
  deliveries_dirty_ = true;
  if (std::chrono::steady_clock::now() - last_deliveries_write_ <
      options_.delivery_flush_interval) {
    return ok_status();
  }
  return write_deliveries_locked();
}

Result<Webhook> WebhookRegistry::add(const std::string& url, const std::vector<std::string>& events,
                                     const std::string& secret) {
  if (auto valid = validate_webhook_request(url, events); !valid) return valid.error();
  if (!secret.empty() && !is_valid_secret(secret)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "webhook secret must be 8 to 256 printable ASCII characters without spaces");
  }
  Webhook webhook;
  webhook.id = "wh_" + random_hex(8);
  webhook.url = url;
  webhook.events = events;
  webhook.secret = secret.empty() ? generate_secret() : secret;
  webhook.created_at = utc_timestamp_now();
  std::lock_guard lock(mutex_);
  auto next = webhooks_;
  next.push_back(webhook);
  if (auto written = write_webhooks(next); !written) return written.error();
  webhooks_ = std::move(next);
  return webhook;
}

std::vector<Webhook> WebhookRegistry::list() const {
  std::lock_guard lock(mutex_);
  return webhooks_;
}

Result<Webhook> WebhookRegistry::get(const std::string& id) const {
  std::lock_guard lock(mutex_);
  for (const auto& webhook : webhooks_) {
    if (webhook.id == id) return webhook;
  }
  return make_error(ErrorCode::kNotFound, "no webhook " + id);
}

Status WebhookRegistry::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto next = webhooks_;
  auto it = std::find_if(next.begin(), next.end(), [&](const Webhook& w) { return w.id == id; });
  if (it == next.end()) return make_error(ErrorCode::kNotFound, "no webhook " + id);
  next.erase(it);
  if (auto written = write_webhooks(next); !written) return written.error();
  webhooks_ = std::move(next);
  if (deliveries_.erase(id) > 0) return maybe_write_deliveries_locked();
  return ok_status();
}

std::vector<Webhook> WebhookRegistry::subscribers(std::string_view event_type) const {
  std::lock_guard lock(mutex_);
  std::vector<Webhook> out;
  for (const auto& webhook : webhooks_) {
    if (webhook.subscribes_to(event_type)) out.push_back(webhook);
  }
  return out;
}

Status WebhookRegistry::add_delivery(const Delivery& delivery) {
  std::lock_guard lock(mutex_);
  bool known = std::any_of(webhooks_.begin(), webhooks_.end(),
                           [&](const Webhook& w) { return w.id == delivery.webhook_id; });
  if (!known) return make_error(ErrorCode::kNotFound, "no webhook " + delivery.webhook_id);
  auto& kept = deliveries_[delivery.webhook_id];
  kept.push_back(delivery);
  while (kept.size() > options_.deliveries_per_webhook) kept.pop_front();
  return maybe_write_deliveries_locked();
}

Status WebhookRegistry::update_delivery(const Delivery& delivery) {
  std::lock_guard lock(mutex_);
  auto list = deliveries_.find(delivery.webhook_id);
  if (list == deliveries_.end()) return ok_status();
  auto it = std::find_if(list->second.begin(), list->second.end(),
                         [&](const Delivery& d) { return d.id == delivery.id; });
  if (it == list->second.end()) return ok_status();
  *it = delivery;
  return maybe_write_deliveries_locked();
}

Result<std::vector<Delivery>> WebhookRegistry::deliveries(const std::string& webhook_id) const {
  std::lock_guard lock(mutex_);
  bool known = std::any_of(webhooks_.begin(), webhooks_.end(),
                           [&](const Webhook& w) { return w.id == webhook_id; });
  if (!known) return make_error(ErrorCode::kNotFound, "no webhook " + webhook_id);
  std::vector<Delivery> out;
  if (auto it = deliveries_.find(webhook_id); it != deliveries_.end()) {
    out.assign(it->second.rbegin(), it->second.rend());
  }
  return out;
}

Status WebhookRegistry::flush() {
  std::lock_guard lock(mutex_);
  if (!deliveries_dirty_) return ok_status();
  return write_deliveries_locked();
}

}  // namespace lookalike
