// A thin RAII layer over libpq for the PostgreSQL catalogue: parameters (PgParams), results
// (PgResult, always in binary format), one connection (PgConnection) and a small pool (PgPool).
// Every query is parameterised with PQexecParams; no SQL is ever built from values.
// Thread-safety: PgPool is thread-safe; a PgConnection (and the lease holding it) is used by one
// thread at a time. PgPool owns its idle connections; a lease owns its connection until returned.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <libpq-fe.h>

#include "core/result.h"

namespace lookalike::catalog {

// The parameters of one statement, $1..$n in the order added. Text parameters are sent in text
// format (PostgreSQL casts them to the column's type); bytes are sent in binary format.
class PgParams {
 public:
  PgParams& text(std::string value);
  // NULL when `value` is empty (optional text columns store "" as NULL).
  PgParams& text_or_null(const std::string& value);
  PgParams& int64(std::int64_t value);
  PgParams& optional_int64(const std::optional<std::int64_t>& value);
  PgParams& bytes(std::string value);
  PgParams& null();

  int size() const { return static_cast<int>(values_.size()); }

 private:
  friend class PgConnection;
  std::vector<std::string> values_;
  std::vector<char> is_null_;
  std::vector<int> formats_;  // 0 text, 1 binary
};

// The rows of one statement, all columns in binary format. Accessors return "" / 0 for NULL.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result) {}

  int rows() const { return PQntuples(result_.get()); }
  bool is_null(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
  // The raw bytes of a value (text, varchar and bytea come back as themselves).
  std::string_view bytes(int row, int col) const;
  std::string text(int row, int col) const { return std::string(bytes(row, col)); }
  // An int2, int4 or int8 column.
  std::int64_t int64(int row, int col) const;
  std::optional<std::int64_t> optional_int64(int row, int col) const;
  // Rows inserted, updated or deleted by the statement.
  std::int64_t affected_rows() const;

 private:
  struct Clear {
    void operator()(PGresult* result) const { PQclear(result); }
  };
  std::unique_ptr<PGresult, Clear> result_;
};

// One libpq connection (session time zone UTC). Broken connections report kNetwork.
class PgConnection {
 public:
  // Connects to `url` ("postgresql://user:pass@host:port/db"); kNetwork if the server cannot be
  // reached or refuses the connection. The message never contains the password.
  static Result<std::unique_ptr<PgConnection>> open(const std::string& url);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement. Errors: kNetwork when the connection is lost, kAlreadyExists for a unique
  // violation, kInvalidArgument for data the schema refuses, kIoError otherwise.
  Result<PgResult> exec(const std::string& sql, const PgParams& params = {});
  Status exec_command(const std::string& sql, const PgParams& params = {});

  bool broken() const { return PQstatus(conn_) != CONNECTION_OK; }
  bool idle() const { return PQtransactionStatus(conn_) == PQTRANS_IDLE; }
  // Statements that succeeded since reset_counter() (a lease resets it when handed out).
  std::int64_t succeeded() const { return succeeded_; }
  void reset_counter() { succeeded_ = 0; }
  // "host:port/db", for messages.
  const std::string& where() const { return where_; }

 private:
  explicit PgConnection(PGconn* conn);

  PGconn* conn_;
  std::string where_;
  std::int64_t succeeded_ = 0;
};

// Up to `max_connections` connections to one server, created on demand and reused.
class PgPool {
 public:
  // A connection borrowed from the pool; returned on destruction if it is healthy and outside a
  // transaction, dropped otherwise.
  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<PgConnection> connection, bool reused)
        : pool_(pool), connection_(std::move(connection)), reused_(reused) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();

    PgConnection& connection() { return *connection_; }
    // True when the connection had been used before (it may have gone stale while idle).
    bool reused() const { return reused_; }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConnection> connection_;
    bool reused_;
  };

  PgPool(std::string url, std::size_t max_connections);
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // Waits for a free connection if all are in use; kNetwork if a new one cannot be opened.
  Result<Lease> acquire();
  // Drops every idle connection (after one turned out broken, the others likely are too).
  void drop_idle();

 private:
  void release(std::unique_ptr<PgConnection> connection);

  const std::string url_;
  const std::size_t max_connections_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // guarded by mutex_
  std::size_t open_ = 0;                             // idle + leased; guarded by mutex_
};

}  // namespace lookalike::catalog
