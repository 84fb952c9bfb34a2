// RedisServer: a real, throwaway redis-server for tests (Debian's /usr/bin/redis-server, or
// $LOOKALIKE_REDIS_SERVER) on a free 127.0.0.1 port with a fresh temp directory, no persistence
// (--save '' --appendonly no) and an optional password (--requirepass).
// Thread-safety: not thread-safe; one test thread drives it. It owns the server process and its
// directory, both removed by the destructor; the server also dies with the test process.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "core/result.h"
#include "test_support.h"

namespace lookalike::testing {

class RedisServer {
 public:
  // Starts the server and waits until it answers PING. kFailedPrecondition when redis-server is
  // missing (apt-get install redis-server), kIoError with its log when it does not start.
  static Result<std::unique_ptr<RedisServer>> start(const std::string& password = "");

  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  const std::string& password() const { return password_; }
  // "redis://127.0.0.1:<port>", or "redis://:<password>@127.0.0.1:<port>" with a password.
  std::string url() const;

  // Stops the server (SIGTERM, nothing saved) and waits for it to exit.
  Status stop();
  // SIGKILL: the server vanishes as in a crash.
  void kill();
  // Stops it if it runs, then starts it again on the same port (empty: nothing was persisted).
  Status restart();
  bool running() const { return pid_ > 0; }

 private:
  RedisServer() = default;
  Status launch();
  std::string log_tail() const;

  std::string binary_;
  std::unique_ptr<TempDir> dir_;  // the server's --dir and its log
  std::string password_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace lookalike::testing
