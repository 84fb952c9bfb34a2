#include "catalog/sqlite/sqlite_statement.h"

#include <sqlite3.h>

#include <utility>

namespace lookalike::catalog {

SqliteStatement::~SqliteStatement() {
  if (stmt_ != nullptr) reset();
}

void SqliteStatement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = 0;
}

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : connection_(other.connection_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      bind_error_(other.bind_error_) {}

void SqliteStatement::bind_int64(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
}

void SqliteStatement::bind_optional_int64(int index, const std::optional<std::int64_t>& value) {
  int rc = value ? sqlite3_bind_int64(stmt_, index, *value) : sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
}

void SqliteStatement::bind_text(int index, std::string_view value) {
  // SQLITE_TRANSIENT: SQLite copies the bytes, so temporaries may be bound.
  int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
}

void SqliteStatement::bind_text_or_null(int index, std::string_view value) {
  if (value.empty()) {
    int rc = sqlite3_bind_null(stmt_, index);
    if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  } else {
    bind_text(index, value);
  }
}

void SqliteStatement::bind_blob(int index, std::string_view bytes) {
  int rc = sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
}

Result<bool> SqliteStatement::step() {
  if (bind_error_ != 0) return connection_->error(bind_error_, "binding a statement parameter");
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error error = connection_->error(rc, sqlite3_sql(stmt_));
  sqlite3_reset(stmt_);
  return error;
}

Status SqliteStatement::run() {
  while (true) {
    auto row = step();
    if (!row) return row.error();
    if (!*row) return ok_status();
  }
}

std::int64_t SqliteStatement::column_int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::optional<std::int64_t> SqliteStatement::column_optional_int64(int column) const {
  if (column_is_null(column)) return std::nullopt;
  return sqlite3_column_int64(stmt_, column);
}

bool SqliteStatement::column_is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::string SqliteStatement::column_text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  int size = sqlite3_column_bytes(stmt_, column);
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::string_view SqliteStatement::column_blob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  if (data == nullptr) return {};
  int size = sqlite3_column_bytes(stmt_, column);
  return std::string_view(static_cast<const char*>(data), static_cast<std::size_t>(size));
}

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::open(
    const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  // NOMUTEX: the owner serialises every call, so SQLite's own per-connection mutex is not needed.
  int rc = sqlite3_open_v2(
      file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return make_error(ErrorCode::kIoError,
                      file.string() + ": cannot open the SQLite database: " + message);
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<SqliteConnection>(new SqliteConnection(db, file));
}

SqliteConnection::~SqliteConnection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Status SqliteConnection::exec(std::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error(rc, text);
  return ok_status();
}

Result<SqliteStatement> SqliteConnection::prepare(const std::string& sql) {
  auto found = cache_.find(sql);
  if (found != cache_.end()) return SqliteStatement(this, found->second);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return error(rc, sql);
  }
  cache_.emplace(sql, stmt);
  return SqliteStatement(this, stmt);
}

std::int64_t SqliteConnection::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

std::int64_t SqliteConnection::changes() const { return sqlite3_changes64(db_); }

Error SqliteConnection::error(int rc, std::string_view what) const {
  ErrorCode code = ErrorCode::kInternal;
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      code = ErrorCode::kCorruptData;
      break;
    case SQLITE_CONSTRAINT:
      code = (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
                 ? ErrorCode::kAlreadyExists
                 : ErrorCode::kInvalidArgument;
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
      code = ErrorCode::kIoError;
      break;
    case SQLITE_TOOBIG:
      code = ErrorCode::kResourceExhausted;
      break;
    case SQLITE_NOMEM:
      code = ErrorCode::kResourceExhausted;
      break;
    default:
      break;
  }
  std::string message = file_.string() + ": ";
  if ((rc & 0xff) == SQLITE_NOTADB) {
    message += "is not a SQLite database (or is encrypted or damaged)";
  } else {
    // sqlite3_errmsg describes the most recent failure on this connection, which is `rc` here.
    message += sqlite3_errmsg(db_);
  }
  message += " (while running: " + std::string(what.substr(0, 200)) + ")";
  return make_error(code, std::move(message));
}

Result<SqliteTransaction> SqliteTransaction::begin(SqliteConnection& connection) {
  auto stmt = connection.prepare("BEGIN IMMEDIATE");
  if (!stmt) return stmt.error();
  if (auto status = stmt->run(); !status) return status.error();
  return SqliteTransaction(&connection);
}

SqliteTransaction::~SqliteTransaction() {
  if (connection_ == nullptr) return;
  // Nothing useful can be done if ROLLBACK fails (the connection is probably closed by an I/O
  // error and SQLite has already rolled back); the error is dropped.
  auto stmt = connection_->prepare("ROLLBACK");
  if (stmt) (void)stmt->run();
}

SqliteTransaction::SqliteTransaction(SqliteTransaction&& other) noexcept
    : connection_(std::exchange(other.connection_, nullptr)) {}

Status SqliteTransaction::commit() {
  auto stmt = connection_->prepare("COMMIT");
  if (!stmt) return stmt.error();
  if (auto status = stmt->run(); !status) return status;
  connection_ = nullptr;
  return ok_status();
}

}  // namespace lookalike::catalog
