// PostgresServer: a real, throwaway PostgreSQL server for tests (initdb into a temp directory,
// postgres on a free 127.0.0.1 port, trust auth, fsync off), with a fresh database per test.
// Running as root, the server runs as the `postgres` system user (initdb/postgres refuse root).
// Thread-safety: not thread-safe; one test thread drives it. It owns the server process and its
// directory, both removed by the destructor.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>

#include "core/result.h"

namespace lookalike::testing {

class PostgresServer {
 public:
  // Runs initdb and starts the server. kFailedPrecondition when the server binaries are missing
  // (install postgresql-15, or set LOOKALIKE_POSTGRES_BIN to their directory), kIoError with the
  // server's log when it does not start.
  static Result<std::unique_ptr<PostgresServer>> start();
  // One server for the whole test binary, started on first use and stopped at exit. A failure to
  // start is returned to every caller (tests ASSERT on it, so they fail rather than skip).
  static Result<PostgresServer*> shared();

  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  // "postgresql://postgres@127.0.0.1:<port>/postgres"
  std::string url() const { return url("postgres"); }
  std::string url(const std::string& database) const;

  // Creates the empty database `name` ([a-z0-9_], at most 63 bytes) and returns its URL.
  Result<std::string> create_database(const std::string& name);
  // Creates an empty database with a name not used before in this process; returns its URL.
  Result<std::string> fresh_database();

  // Runs `sql` with psql in `database`; returns the rows unaligned ("a|b\n" per row).
  Result<std::string> query(const std::string& database, const std::string& sql) const;

  // Stops the server (fast shutdown: clients are disconnected); start_again() restarts it on the
  // same port with the same data. For tests of connection loss.
  Status stop();
  Status start_again();
  bool running() const { return pid_ > 0; }

 private:
  PostgresServer() = default;
  Status launch();
  std::string log_tail() const;

  std::filesystem::path bin_dir_;
  std::filesystem::path root_;  // temp directory holding data/, the socket and the log
  int port_ = 0;
  pid_t pid_ = -1;
  int database_counter_ = 0;
};

}  // namespace lookalike::testing
