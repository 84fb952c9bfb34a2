#include "server_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <httplib.h>

#include "test_support.h"

namespace lookalike::testing {

namespace {

std::filesystem::path next_log_path() {
  static int counter = 0;
  return std::filesystem::temp_directory_path() /
         ("lookalike-server-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) +
          ".log");
}

}  // namespace

std::unique_ptr<ServerProcess> ServerProcess::spawn(const std::vector<std::string>& argv,
                                                    const EnvVars& env) {
  std::unique_ptr<ServerProcess> process(new ServerProcess());
  process->log_path_ = next_log_path();
  std::vector<std::string> full{lookalike_binary().string()};
  full.insert(full.end(), argv.begin(), argv.end());
  pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork failed";
    return nullptr;
  }
  if (pid == 0) {
    for (const auto& [key, value] : env) ::setenv(key.c_str(), value.c_str(), 1);
    FILE* log = std::fopen(process->log_path_.c_str(), "w");
    if (log != nullptr) {
      ::dup2(fileno(log), 1);
      ::dup2(fileno(log), 2);
    }
    std::vector<char*> args;
    for (auto& arg : full) args.push_back(arg.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  process->pid_ = pid;
  return process;
}

std::unique_ptr<ServerProcess> ServerProcess::start(const std::vector<std::string>& args,
                                                    const EnvVars& env) {
  auto free = free_port();
  if (!free) {
    ADD_FAILURE() << free.error().to_string();
    return nullptr;
  }
  const int port = *free;
  std::vector<std::string> argv{"serve", "--host", "127.0.0.1", "--port", std::to_string(port)};
  argv.insert(argv.end(), args.begin(), args.end());
  auto process = spawn(argv, env);
  if (!process) return nullptr;
  process->port_ = port;
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process->running()) {
      ADD_FAILURE() << "lookalike serve exited with " << process->exit_code_ << ":\n"
                    << process->log();
      return nullptr;
    }
    auto response = client.Get("/api/v1/health/ready");
    if (response && response->status == 200) return process;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "lookalike serve never got ready:\n" << process->log();
  return nullptr;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && running()) kill();
  std::error_code ignored;
  std::filesystem::remove(log_path_, ignored);
}

std::string ServerProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool ServerProcess::running() {
  if (pid_ <= 0 || exit_code_ >= 0) return false;
  int status = 0;
  pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == 0) return true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

int ServerProcess::wait_exit(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return running() ? -1 : exit_code_;
}

int ServerProcess::stop() {
  if (!running()) return exit_code_;
  ::kill(pid_, SIGTERM);
  if (wait_exit(30000) < 0) kill();
  return exit_code_;
}

void ServerProcess::kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  wait_exit(30000);
}

}  // namespace lookalike::testing
