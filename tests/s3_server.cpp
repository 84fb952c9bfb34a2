#include "s3_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "core/http_client.h"

extern char** environ;

namespace lookalike::testing {

namespace {

namespace fs = std::filesystem;

const fs::path kJsDir = fs::path(__FILE__).parent_path() / "js";

// The first `name` on PATH that is an executable file, or an empty path.
fs::path find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// AWS's URI encoding of an object key; '/' separates the path segments and stays.
std::string encode_key(const std::string& key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : key) {
    auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

}  // namespace

::testing::AssertionResult S3Server::start() {
  fs::path node = find_on_path("node");
  if (node.empty()) {
    return ::testing::AssertionFailure()
           << "node is not installed: the S3 tests need Node.js and the npm packages of tests/js "
              "(run scripts/install-deps.sh)";
  }
  if (!fs::exists(kJsDir / "node_modules" / "s3rver" / "package.json")) {
    return ::testing::AssertionFailure()
           << "s3rver is not installed in " << kJsDir.string()
           << "/node_modules: run scripts/install-deps.sh (or npm ci --prefix tests/js)";
  }
  int in_pipe[2];
  int out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return ::testing::AssertionFailure() << "pipe2 failed";
  }
  fs::path data = dir_ / "data";
  fs::create_directories(data);
  std::string log = (dir_ / "stand-in.log").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::string script = (kJsDir / "s3_stand_in.js").string();
  std::string node_path = node.string();
  std::string data_path = data.string();
  // s3rver's continuation tokens are DES-encrypted, a cipher OpenSSL 3 keeps in its legacy
  // provider.
  std::string legacy = "--openssl-legacy-provider";
  std::vector<char*> argv = {node_path.data(), legacy.data(), script.data(), data_path.data(),
                             nullptr};
  int spawned = ::posix_spawn(&pid_, node_path.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  stdin_fd_ = in_pipe[1];
  if (spawned != 0) {
    pid_ = -1;
    ::close(out_pipe[0]);
    return ::testing::AssertionFailure()
           << "could not start " << node_path << ": errno " << spawned;
  }

  // The stand-in prints "listening <port>" once its server accepts connections.
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{out_pipe[0], POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    char buffer[256];
    ssize_t n = ::read(out_pipe[0], buffer, sizeof buffer);
    if (n <= 0) break;  // the child exited
    line.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(out_pipe[0]);
  if (line.starts_with("listening ")) port_ = std::atoi(line.c_str() + 10);
  if (port_ <= 0) {
    return ::testing::AssertionFailure()
           << "the S3 stand-in did not start (stdout: '" << line << "'); its log:\n"
           << log_tail();
  }
  return ::testing::AssertionSuccess();
}

S3Server::~S3Server() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

std::string S3Server::log_tail() const {
  std::ifstream in(dir_ / "stand-in.log");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.size() > 4000 ? text.substr(text.size() - 4000) : text;
}

::testing::AssertionResult S3Server::put(const std::string& path, const std::string& body) {
  thread_local HttpClient client(HttpOptions{});
  HttpRequest request;
  request.method = "PUT";
  request.url = endpoint() + path;
  request.body = body;
  request.sigv4 = AwsSigV4{kAccessKeyId, kSecretAccessKey, "", kRegion, "s3"};
  auto response = client.request(request);
  if (!response.ok()) return ::testing::AssertionFailure() << response.error().to_string();
  if (response->status != 200) {
    return ::testing::AssertionFailure() << "PUT " << path << ": HTTP " << response->status << "\n"
                                         << response->body;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult S3Server::create_bucket(const std::string& bucket) {
  return put("/" + bucket, "");
}

::testing::AssertionResult S3Server::put_object(const std::string& bucket, const std::string& key,
                                                const std::string& bytes) {
  return put("/" + bucket + "/" + encode_key(key), bytes);
}

}  // namespace lookalike::testing
