#include "postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
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
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "test_support.h"

namespace lookalike::testing {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Where the server binaries are: $LOOKALIKE_POSTGRES_BIN if set, else Debian's postgresql-15.
Result<fs::path> find_bin_dir() {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("LOOKALIKE_POSTGRES_BIN"); env != nullptr && *env != '\0') {
    candidates.emplace_back(env);
  } else {
    candidates.emplace_back("/usr/lib/postgresql/15/bin");
  }
  std::string looked;
  for (const auto& dir : candidates) {
    std::error_code ec;
    if (fs::exists(dir / "initdb", ec) && fs::exists(dir / "postgres", ec) &&
        fs::exists(dir / "psql", ec)) {
      return dir;
    }
    looked += (looked.empty() ? "" : ", ") + dir.string();
  }
  return make_error(ErrorCode::kFailedPrecondition,
                    "PostgreSQL server binaries (initdb, postgres, psql) not found in " + looked +
                        ": install postgresql-15 (apt-get install postgresql-15) or set "
                        "LOOKALIKE_POSTGRES_BIN to their directory");
}

// The user the server runs as when we are root (initdb and postgres refuse to run as root).
struct RunAs {
  bool drop = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

Result<RunAs> run_as() {
  RunAs who;
  if (::geteuid() != 0) return who;
  struct passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "running as root, but there is no `postgres` system user to run the "
                      "PostgreSQL server as (the postgresql-15 package creates it)");
  }
  who.drop = true;
  who.uid = pw->pw_uid;
  who.gid = pw->pw_gid;
  return who;
}

// Forks and execs argv with stdout/stderr appended to `log`, as `who`. Returns the child's pid.
Result<pid_t> spawn(const std::vector<std::string>& argv, const fs::path& log, const RunAs& who) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string log_path = log.string();
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return make_error(ErrorCode::kIoError, "fork failed");
  if (pid == 0) {
    int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || in < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    if (who.drop &&
        (::setgroups(0, nullptr) != 0 || ::setgid(who.gid) != 0 || ::setuid(who.uid) != 0)) {
      ::_exit(125);
    }
    // Set after the uid change (which clears it): the server goes when the test binary dies.
    ::prctl(PR_SET_PDEATHSIG, SIGINT);
    if (::getppid() != parent) ::_exit(124);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

// Waits for `pid` for at most `timeout`; its exit code, or nullopt if it is still running.
std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
}

Status chown_tree(const fs::path& root, const RunAs& who) {
  if (!who.drop) return ok_status();
  std::error_code ec;
  if (::chown(root.c_str(), who.uid, who.gid) != 0) {
    return make_error(ErrorCode::kIoError, "cannot chown " + root.string() + " to postgres");
  }
  for (const auto& entry : fs::recursive_directory_iterator(root, ec)) {
    if (::lchown(entry.path().c_str(), who.uid, who.gid) != 0) {
      return make_error(ErrorCode::kIoError,
                        "cannot chown " + entry.path().string() + " to postgres");
    }
  }
  return ok_status();
}

bool valid_database_name(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return !(name[0] >= '0' && name[0] <= '9');
}

}  // namespace

Result<std::unique_ptr<PostgresServer>> PostgresServer::start() {
  try {
    auto bin = find_bin_dir();
    if (!bin) return bin.error();
    auto who = run_as();
    if (!who) return who.error();

    std::unique_ptr<PostgresServer> server(new PostgresServer());
    server->bin_dir_ = *bin;
    std::random_device rd;
    server->root_ =
        fs::temp_directory_path() /
        ("lookalike-postgres-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(server->root_);
    fs::permissions(server->root_, fs::perms::owner_all);
    if (auto s = chown_tree(server->root_, *who); !s) return s.error();

    const fs::path initdb_log = server->root_ / "initdb.log";
    auto initdb = spawn(
        {(server->bin_dir_ / "initdb").string(), "-D", (server->root_ / "data").string(), "-U",
         "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"},
        initdb_log, *who);
    if (!initdb) return initdb.error();
    auto code = wait_for(*initdb, 120s);
    if (!code || *code != 0) {
      if (!code) ::kill(*initdb, SIGKILL);
      return make_error(ErrorCode::kIoError, "initdb failed (exit " +
                                                 std::to_string(code.value_or(-1)) + "):\n" +
                                                 read_bytes(initdb_log));
    }
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
    return make_error(ErrorCode::kIoError, std::string("starting PostgreSQL: ") + e.what());
  }
}

Result<PostgresServer*> PostgresServer::shared() {
  static std::mutex mutex;
  static std::unique_ptr<PostgresServer> server;
  static std::optional<Error> failure;
  std::lock_guard lock(mutex);
  if (server != nullptr) return server.get();
  if (failure) return *failure;
  auto started = start();
  if (!started) {
    failure = started.error();
    return *failure;
  }
  server = std::move(started).value();
  return server.get();
}

Status PostgresServer::launch() {
  auto who = run_as();
  if (!who) return who.error();
  const fs::path log = root_ / "postgres.log";
  auto pid = spawn({(bin_dir_ / "postgres").string(), "-D", (root_ / "data").string(), "-p",
                    std::to_string(port_), "-h", "127.0.0.1", "-k", root_.string(), "-c",
                    "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c",
                    "max_connections=300", "-c", "log_min_messages=warning"},
                   log, *who);
  if (!pid) return pid.error();
  pid_ = *pid;
  // The server writes "ready" on line 8 of postmaster.pid once it accepts connections.
  const fs::path pid_file = root_ / "data" / "postmaster.pid";
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto code = wait_for(pid_, 0ms)) {
      pid_ = -1;
      return make_error(ErrorCode::kIoError, "postgres exited with " + std::to_string(*code) +
                                                 " on start; its log:\n" + log_tail());
    }
    std::ifstream in(pid_file);
    std::string line;
    for (int i = 0; i < 8 && std::getline(in, line); ++i) {
    }
    if (line.starts_with("ready")) return ok_status();
    std::this_thread::sleep_for(20ms);
  }
  (void)stop();
  return make_error(ErrorCode::kIoError,
                    "postgres did not become ready in 60 s; its log:\n" + log_tail());
}

PostgresServer::~PostgresServer() {
  (void)stop();
  std::error_code ec;
  fs::remove_all(root_, ec);
}

std::string PostgresServer::url(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

Result<std::string> PostgresServer::create_database(const std::string& name) {
  if (!valid_database_name(name)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "database name \"" + name + "\" must be [a-z0-9_], at most 63 bytes");
  }
  auto done = query("postgres", "CREATE DATABASE " + name);
  if (!done) return done.error();
  return url(name);
}

Result<std::string> PostgresServer::fresh_database() {
  return create_database("lookalike_test_" + std::to_string(++database_counter_));
}

Result<std::string> PostgresServer::query(const std::string& database,
                                          const std::string& sql) const {
  try {
    auto result = run_command({(bin_dir_ / "psql").string(), "-X", "-q", "-A", "-t", "-v",
                               "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", std::to_string(port_),
                               "-U", "postgres", "-d", database, "-c", sql});
    if (result.exit_code != 0) {
      return make_error(ErrorCode::kIoError, "psql failed on \"" + sql + "\": " + result.err);
    }
    return result.out;
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kIoError, std::string("running psql: ") + e.what());
  }
}

Status PostgresServer::stop() {
  if (pid_ <= 0) return ok_status();
  ::kill(pid_, SIGINT);  // fast shutdown
  auto code = wait_for(pid_, 30s);
  if (!code) {
    ::kill(pid_, SIGKILL);
    (void)wait_for(pid_, 10s);
  }
  pid_ = -1;
  if (!code) return make_error(ErrorCode::kIoError, "postgres did not stop in 30 s; killed it");
  return ok_status();
}

Status PostgresServer::start_again() {
  if (pid_ > 0) return ok_status();
  return launch();
}

std::string PostgresServer::log_tail() const {
  std::string log = read_bytes(root_ / "postgres.log");
  return log.size() > 4000 ? log.substr(log.size() - 4000) : log;
}

}  // namespace lookalike::testing
