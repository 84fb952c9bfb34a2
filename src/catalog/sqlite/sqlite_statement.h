// Thin RAII wrappers over the SQLite C API used by SqliteCatalog: a connection that owns its
// sqlite3* and caches prepared statements, a borrowed statement that resets itself when done,
// and a transaction guard that rolls back unless committed.
// Thread-safety: none; the owner (SqliteCatalog) serialises every use of a connection.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace lookalike::catalog {

class SqliteConnection;

// A prepared statement borrowed from SqliteConnection's cache. Binding errors are remembered and
// reported by the next step(); the destructor resets the statement and clears its bindings so
// that it can be reused (and holds no read snapshot open).
class SqliteStatement {
 public:
  SqliteStatement(SqliteConnection* connection, sqlite3_stmt* stmt)
      : connection_(connection), stmt_(stmt) {}
  ~SqliteStatement();
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&&) = delete;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  // Makes the statement ready to be bound and run again (what the destructor does).
  void reset();

  // Parameters are 1-based, as in SQLite.
  void bind_int64(int index, std::int64_t value);
  void bind_optional_int64(int index, const std::optional<std::int64_t>& value);
  void bind_text(int index, std::string_view value);
  // Binds NULL for an empty string (optional text columns).
  void bind_text_or_null(int index, std::string_view value);
  void bind_blob(int index, std::string_view bytes);

  // true: a row is available; false: the statement is done.
  Result<bool> step();
  // Steps until done (statements that return no rows, or whose rows do not matter).
  Status run();

  std::int64_t column_int64(int column) const;
  std::optional<std::int64_t> column_optional_int64(int column) const;
  bool column_is_null(int column) const;
  // NULL reads as "".
  std::string column_text(int column) const;
  std::string_view column_blob(int column) const;

 private:
  SqliteConnection* connection_;
  sqlite3_stmt* stmt_;
  int bind_error_ = 0;
};

// One sqlite3 connection with a cache of prepared statements (prepared once, reused for the life
// of the connection).
class SqliteConnection {
 public:
  // Opens (creating if missing) the database file. Does not touch the file's contents yet: a file
  // that is not a database is only detected by the first statement.
  static Result<std::unique_ptr<SqliteConnection>> open(const std::filesystem::path& file);
  ~SqliteConnection();
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  // Runs one or more statements that return nothing interesting (schema scripts, pragmas).
  Status exec(std::string_view sql);
  Result<SqliteStatement> prepare(const std::string& sql);

  std::int64_t last_insert_rowid() const;
  std::int64_t changes() const;
  const std::filesystem::path& file() const { return file_; }

  // An Error for SQLite result code `rc`, naming the file and what was being done; the ErrorCode
  // follows the code (corruption → kCorruptData, unique violation → kAlreadyExists, ...).
  Error error(int rc, std::string_view what) const;

 private:
  SqliteConnection(sqlite3* db, std::filesystem::path file) : db_(db), file_(std::move(file)) {}

  sqlite3* db_;
  std::filesystem::path file_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// BEGIN IMMEDIATE on construction (via begin()), ROLLBACK on destruction unless commit() ran.
class SqliteTransaction {
 public:
  static Result<SqliteTransaction> begin(SqliteConnection& connection);
  ~SqliteTransaction();
  SqliteTransaction(SqliteTransaction&& other) noexcept;
  SqliteTransaction& operator=(SqliteTransaction&&) = delete;
  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;

  Status commit();

 private:
  explicit SqliteTransaction(SqliteConnection* connection) : connection_(connection) {}
  SqliteConnection* connection_;
};

}  // namespace lookalike::catalog
