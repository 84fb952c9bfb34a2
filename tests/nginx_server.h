// NginxServer: a real nginx (/usr/sbin/nginx, Debian's `nginx` package) running the shipped
// deploy/nginx.conf + deploy/nginx/lookalike.conf for black-box tests. The literal defaults of
// those files (ports 80/443, the upstream 127.0.0.1:8008, the data dir /var/lib/lookalike, the
// certificate paths, /run, /var/log/nginx, /var/lib/nginx, the worker user) are replaced with free
// 127.0.0.1 ports, the test's directories and a self-signed certificate made with the `openssl`
// CLI; everything else is exactly what is deployed. A default missing from the shipped files is an
// error, so the test notices when they change.
// nginx runs in the foreground (`daemon off`) as the current user (workers as root when root).
// Thread-safety: not thread-safe; one test thread drives it. It owns the process and its temp
// directory, both gone with the object.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace lookalike::testing {

struct NginxOptions {
  int upstream_port = 0;               // where `lookalike serve` listens on 127.0.0.1
  std::filesystem::path data_dir;      // the server's --data-dir (its images/ folder is served)
  std::filesystem::path shipped_main;  // default: LOOKALIKE_SOURCE_DIR/deploy/nginx.conf
  std::filesystem::path shipped_site;  // default: LOOKALIKE_SOURCE_DIR/deploy/nginx/lookalike.conf
};

class NginxServer {
 public:
  // Renders the configuration, makes the certificate, starts nginx and waits until its HTTPS port
  // accepts connections. kFailedPrecondition when nginx or openssl is missing (install `nginx`
  // and `openssl`, or set LOOKALIKE_NGINX to the binary), kIoError with nginx's log when it does
  // not start.
  static Result<std::unique_ptr<NginxServer>> start(const NginxOptions& options);

  // Replaces every `from` with its `to` in `text`; kNotFound naming the first `from` that does not
  // occur (the shipped file no longer has that default).
  static Result<std::string> substitute(
      std::string text, const std::vector<std::pair<std::string, std::string>>& replacements);

  ~NginxServer();
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  int http_port() const { return http_port_; }
  int https_port() const { return https_port_; }
  std::string https_url() const { return "https://127.0.0.1:" + std::to_string(https_port_); }
  std::string http_url() const { return "http://127.0.0.1:" + std::to_string(http_port_); }
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path certificate() const { return root_ / "cert.pem"; }
  // The configuration as nginx runs it (after substitution).
  const std::string& main_config() const { return main_config_; }
  const std::string& site_config() const { return site_config_; }
  // The tail of nginx's error log and stderr, for failure messages.
  std::string log_tail() const;

  // SIGQUIT (graceful), then SIGTERM and SIGKILL if it lingers.
  Status stop();

 private:
  NginxServer() = default;
  Status launch();

  std::filesystem::path binary_;
  std::filesystem::path root_;
  std::string main_config_;
  std::string site_config_;
  int http_port_ = 0;
  int https_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace lookalike::testing
