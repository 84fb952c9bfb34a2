#include "nginx_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <optional>
#include <random>
#include <thread>

#include "test_support.h"

namespace lookalike::testing {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::optional<fs::path> find_program(const char* env_var, const std::vector<fs::path>& candidates) {
  if (const char* env = std::getenv(env_var); env != nullptr && *env != '\0') return fs::path(env);
  for (const auto& candidate : candidates) {
    std::error_code ec;
    if (fs::exists(candidate, ec)) return candidate;
  }
  return std::nullopt;
}

// A TCP port on 127.0.0.1 that was free a moment ago.
int unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

bool accepts_connections(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// Waits for `pid` for at most `timeout`; its exit code, or nullopt if it is still running.
std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
}

std::string current_user() {
  const struct passwd* pw = ::getpwuid(::geteuid());
  return pw != nullptr ? pw->pw_name : "root";
}

std::string tail(const std::string& text, std::size_t n) {
  return text.size() > n ? text.substr(text.size() - n) : text;
}

}  // namespace

Result<std::string> NginxServer::substitute(
    std::string text, const std::vector<std::pair<std::string, std::string>>& replacements) {
  for (const auto& [from, to] : replacements) {
    std::size_t at = text.find(from);
    if (at == std::string::npos) {
      return make_error(ErrorCode::kNotFound,
                        "the shipped nginx configuration no longer contains \"" + from +
                            "\" (tests/nginx_server.cpp replaces it for the test)");
    }
    for (; at != std::string::npos; at = text.find(from, at + to.size())) {
      text.replace(at, from.size(), to);
    }
  }
  return text;
}

Result<std::unique_ptr<NginxServer>> NginxServer::start(const NginxOptions& options) {
  try {
    std::unique_ptr<NginxServer> server(new NginxServer());
    auto nginx = find_program("LOOKALIKE_NGINX", {"/usr/sbin/nginx", "/usr/bin/nginx"});
    auto openssl =
        find_program("LOOKALIKE_OPENSSL", {"/usr/bin/openssl", "/usr/local/bin/openssl"});
    if (!nginx || !openssl) {
      return make_error(ErrorCode::kFailedPrecondition,
                        "nginx and openssl are needed (apt-get install nginx openssl, or set "
                        "LOOKALIKE_NGINX / LOOKALIKE_OPENSSL)");
    }
    server->binary_ = *nginx;
    std::random_device rd;
    server->root_ = fs::temp_directory_path() /
                    ("lookalike-nginx-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(server->root_ / "logs");
    fs::create_directories(server->root_ / "temp");

    // A self-signed certificate for 127.0.0.1 and localhost (P-256: generated in milliseconds).
    auto cert = run_command(
        {openssl->string(), "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout",
         (server->root_ / "key.pem").string(), "-out", server->certificate().string()});
    if (cert.exit_code != 0) {
      return make_error(ErrorCode::kIoError, "openssl req failed: " + cert.err);
    }

    const fs::path source = LOOKALIKE_SOURCE_DIR;
    const fs::path main_file =
        options.shipped_main.empty() ? source / "deploy" / "nginx.conf" : options.shipped_main;
    const fs::path site_file = options.shipped_site.empty()
                                   ? source / "deploy" / "nginx" / "lookalike.conf"
                                   : options.shipped_site;
    const std::string shipped_main = read_bytes(main_file);
    const std::string shipped_site = read_bytes(site_file);
    if (shipped_main.empty() || shipped_site.empty()) {
      return make_error(ErrorCode::kNotFound,
                        "cannot read " + main_file.string() + " and " + site_file.string());
    }
    const std::string root = server->root_.string();
    auto main_config =
        substitute(shipped_main, {{"user www-data;", "user " + current_user() + ";"},
                                  {"worker_processes auto;", "worker_processes 1;"},
                                  {"pid /run/nginx.pid;", "pid " + root + "/nginx.pid;"},
                                  {"/var/log/nginx/", root + "/logs/"},
                                  {"/var/lib/nginx/", root + "/temp/"},
                                  {"/etc/nginx/conf.d/lookalike.conf", root + "/lookalike.conf"}});
    if (!main_config) return main_config.error();
    server->main_config_ = *main_config;
    write_bytes(server->root_ / "nginx.conf", server->main_config_);

    // A port can be taken between unused_port() and nginx's bind: try a few.
    Status started = ok_status();
    for (int attempt = 0; attempt < 5; ++attempt) {
      server->http_port_ = unused_port();
      server->https_port_ = unused_port();
      if (server->http_port_ == 0 || server->https_port_ == 0 ||
          server->http_port_ == server->https_port_) {
        continue;
      }
      const std::string http = std::to_string(server->http_port_);
      const std::string https = std::to_string(server->https_port_);
      auto site_config = substitute(
          shipped_site, {{"server 127.0.0.1:8008;",
                          "server 127.0.0.1:" + std::to_string(options.upstream_port) + ";"},
                         {"listen 80;", "listen 127.0.0.1:" + http + ";"},
                         {"listen 443 ssl http2;", "listen 127.0.0.1:" + https + " ssl http2;"},
                         {"/etc/ssl/certs/lookalike.crt", server->certificate().string()},
                         {"/etc/ssl/private/lookalike.key", root + "/key.pem"},
                         {"root /var/lib/lookalike;", "root " + options.data_dir.string() + ";"}});
      if (!site_config) return site_config.error();
      server->site_config_ = *site_config;
      write_bytes(server->root_ / "lookalike.conf", server->site_config_);
      started = server->launch();
      if (started) return server;
    }
    return started.error();
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kIoError, std::string("starting nginx: ") + e.what());
  }
}

Status NginxServer::launch() {
  const std::string log = (root_ / "logs" / "stderr.log").string();
  const std::vector<std::string> argv = {
      binary_.string(), "-p", root_.string() + "/", "-c", (root_ / "nginx.conf").string(), "-g",
      "daemon off;"};
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return make_error(ErrorCode::kIoError, "fork failed");
  if (pid == 0) {
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || in < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // nginx goes when the test binary dies
    if (::getppid() != parent) ::_exit(124);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto code = wait_for(pid_, 0ms)) {
      pid_ = -1;
      return make_error(ErrorCode::kIoError,
                        "nginx exited with " + std::to_string(*code) + " on start:\n" + log_tail());
    }
    if (accepts_connections(https_port_) && accepts_connections(http_port_)) return ok_status();
    std::this_thread::sleep_for(20ms);
  }
  (void)stop();
  return make_error(ErrorCode::kIoError,
                    "nginx did not accept connections in 30 s:\n" + log_tail());
}

std::string NginxServer::log_tail() const {
  return tail(read_bytes(root_ / "logs" / "stderr.log"), 2000) +
         tail(read_bytes(root_ / "logs" / "error.log"), 4000);
}

Status NginxServer::stop() {
  if (pid_ <= 0) return ok_status();
  ::kill(pid_, SIGQUIT);  // graceful: finish the requests in flight
  auto code = wait_for(pid_, 10s);
  if (!code) {
    ::kill(pid_, SIGTERM);
    code = wait_for(pid_, 5s);
  }
  if (!code) {
    ::kill(pid_, SIGKILL);
    (void)wait_for(pid_, 5s);
  }
  pid_ = -1;
  if (!code) return make_error(ErrorCode::kIoError, "nginx did not stop in 15 s; killed it");
  return ok_status();
}

NginxServer::~NginxServer() {
  (void)stop();
  std::error_code ec;
  fs::remove_all(root_, ec);
}

}  // namespace lookalike::testing
