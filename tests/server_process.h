// ServerProcess: the real `lookalike serve` (or `lookalike worker`) started for a black-box test,
// on a free port, with its output in a log file; stopped with SIGTERM (or killed) by the test.
// Thread-safety: one owner.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace lookalike::testing {

using EnvVars = std::vector<std::pair<std::string, std::string>>;

class ServerProcess {
 public:
  // Runs `lookalike serve --host 127.0.0.1 --port <free> ARGS...` with `env` added to the
  // environment and waits (up to 60 s) until /api/v1/health/ready answers 200; fails the test
  // (and returns null) if it exits or never gets ready.
  static std::unique_ptr<ServerProcess> start(const std::vector<std::string>& args,
                                              const EnvVars& env = {});
  // Runs `lookalike ARGV...` (e.g. a worker) in the background without waiting for anything.
  static std::unique_ptr<ServerProcess> spawn(const std::vector<std::string>& argv,
                                              const EnvVars& env = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }
  // Everything the process wrote to stdout and stderr so far.
  std::string log() const;

  // SIGTERM, then waits (up to 30 s, then SIGKILL); returns the exit code (128 + signal if killed).
  int stop();
  // SIGKILL at once (a crash); returns when the process is gone.
  void kill();
  bool running();

 private:
  ServerProcess() = default;
  int wait_exit(int timeout_ms);

  pid_t pid_ = -1;
  int port_ = 0;
  int exit_code_ = -1;
  std::filesystem::path log_path_;
};

}  // namespace lookalike::testing
