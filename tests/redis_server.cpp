#include "redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <optional>
#include <thread>
#include <vector>

namespace lookalike::testing {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Waits for `pid` for at most `timeout`; its exit code, or nullopt if it is still running.
std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

// True when something on 127.0.0.1:port answers PING like Redis (+PONG, or -NOAUTH when a
// password is required).
bool answers_ping(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const char ping[] = "PING\r\n";
    if (::send(fd, ping, sizeof ping - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof ping - 1)) {
      char reply[64] = {};
      ssize_t n = ::recv(fd, reply, sizeof reply - 1, 0);
      std::string text(reply, n > 0 ? static_cast<std::size_t>(n) : 0);
      ok = text.starts_with("+PONG") || text.starts_with("-NOAUTH");
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

Result<std::unique_ptr<RedisServer>> RedisServer::start(const std::string& password) {
  try {
    std::string binary = "/usr/bin/redis-server";
    if (const char* env = std::getenv("LOOKALIKE_REDIS_SERVER"); env != nullptr && *env != '\0') {
      binary = env;
    }
    std::error_code ec;
    if (!fs::exists(binary, ec)) {
      return make_error(ErrorCode::kFailedPrecondition,
                        binary +
                            " not found: install redis-server (apt-get install "
                            "redis-server) or set LOOKALIKE_REDIS_SERVER to its path");
    }
    std::unique_ptr<RedisServer> server(new RedisServer());
    server->binary_ = binary;
    server->password_ = password;
    server->dir_ = std::make_unique<TempDir>();
    // A port can be taken between free_port() and the server's bind: try a few.
    Status started = ok_status();
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto port = free_port();
      if (!port) return port.error();
      server->port_ = *port;
      started = server->launch();
      if (started) return server;
    }
    return started.error();
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kIoError, std::string("starting redis-server: ") + e.what());
  }
}

Status RedisServer::launch() {
  std::vector<std::string> argv{binary_,
                                "--port",
                                std::to_string(port_),
                                "--bind",
                                "127.0.0.1",
                                "--save",
                                "",
                                "--appendonly",
                                "no",
                                "--dir",
                                dir_->path().string(),
                                "--daemonize",
                                "no",
                                "--loglevel",
                                "warning"};
  if (!password_.empty()) {
    argv.push_back("--requirepass");
    argv.push_back(password_);
  }
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const std::string log = (dir_->path() / "redis.log").string();
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return make_error(ErrorCode::kIoError, "fork failed");
  if (pid == 0) {
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || in < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // the server goes when the test binary dies
    if (::getppid() != parent) ::_exit(124);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  pid_ = pid;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto code = wait_for(pid_, 0ms)) {
      pid_ = -1;
      return make_error(ErrorCode::kIoError, "redis-server exited with " + std::to_string(*code) +
                                                 " on start; its log:\n" + log_tail());
    }
    if (answers_ping(port_)) return ok_status();
    std::this_thread::sleep_for(10ms);
  }
  kill();
  return make_error(ErrorCode::kIoError,
                    "redis-server did not answer PING in 20 s; its log:\n" + log_tail());
}

RedisServer::~RedisServer() { (void)stop(); }

std::string RedisServer::url() const {
  return "redis://" + (password_.empty() ? "" : ":" + password_ + "@") +
         "127.0.0.1:" + std::to_string(port_);
}

Status RedisServer::stop() {
  if (pid_ <= 0) return ok_status();
  ::kill(pid_, SIGTERM);
  auto code = wait_for(pid_, 10s);
  if (!code) kill();
  pid_ = -1;
  if (!code) return make_error(ErrorCode::kIoError, "redis-server did not stop in 10 s; killed it");
  return ok_status();
}

void RedisServer::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  (void)wait_for(pid_, 10s);
  pid_ = -1;
}

Status RedisServer::restart() {
  if (auto stopped = stop(); !stopped) return stopped;
  return launch();
}

std::string RedisServer::log_tail() const {
  std::string log = read_bytes(dir_->path() / "redis.log");
  return log.size() > 4000 ? log.substr(log.size() - 4000) : log;
}

}  // namespace lookalike::testing
