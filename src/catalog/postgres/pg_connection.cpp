#include "catalog/postgres/pg_connection.h"

#include <cstdlib>
#include <cstring>

namespace lookalike::catalog {

namespace {

std::string trimmed(const char* message) {
  std::string text = message != nullptr ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// ErrorCode for a failed statement, from its SQLSTATE.
ErrorCode code_for_sqlstate(std::string_view state) {
  if (state == "23505") return ErrorCode::kAlreadyExists;  // unique_violation
  if (state == "23503") return ErrorCode::kNotFound;       // foreign_key_violation
  if (state.starts_with("22") || state.starts_with("23")) return ErrorCode::kInvalidArgument;
  if (state.starts_with("08") || state.starts_with("57P")) return ErrorCode::kNetwork;
  if (state.starts_with("53")) return ErrorCode::kResourceExhausted;
  return ErrorCode::kIoError;
}

}  // namespace

// --- PgParams ------------------------------------------------------------------------------------

PgParams& PgParams::text(std::string value) {
  values_.push_back(std::move(value));
  is_null_.push_back(0);
  formats_.push_back(0);
  return *this;
}

PgParams& PgParams::text_or_null(const std::string& value) {
  return value.empty() ? null() : text(value);
}

PgParams& PgParams::int64(std::int64_t value) { return text(std::to_string(value)); }

PgParams& PgParams::optional_int64(const std::optional<std::int64_t>& value) {
  return value ? int64(*value) : null();
}

PgParams& PgParams::bytes(std::string value) {
  values_.push_back(std::move(value));
  is_null_.push_back(0);
  formats_.push_back(1);
  return *this;
}

PgParams& PgParams::null() {
  values_.emplace_back();
  is_null_.push_back(1);
  formats_.push_back(0);
  return *this;
}

// --- PgResult ------------------------------------------------------------------------------------

std::string_view PgResult::bytes(int row, int col) const {
  if (is_null(row, col)) return {};
  return std::string_view(PQgetvalue(result_.get(), row, col),
                          static_cast<std::size_t>(PQgetlength(result_.get(), row, col)));
}

std::int64_t PgResult::int64(int row, int col) const {
  std::string_view raw = bytes(row, col);
  // Binary integers are big-endian two's complement of 2, 4 or 8 bytes.
  std::uint64_t value = 0;
  for (unsigned char c : raw) value = (value << 8) | c;
  switch (raw.size()) {
    case 2:
      return static_cast<std::int16_t>(value);
    case 4:
      return static_cast<std::int32_t>(value);
    case 8:
      return static_cast<std::int64_t>(value);
    default:
      return 0;
  }
}

std::optional<std::int64_t> PgResult::optional_int64(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return int64(row, col);
}

std::int64_t PgResult::affected_rows() const {
  const char* tuples = PQcmdTuples(result_.get());
  return tuples != nullptr && *tuples != '\0' ? std::strtoll(tuples, nullptr, 10) : 0;
}

// --- PgConnection --------------------------------------------------------------------------------

PgConnection::PgConnection(PGconn* conn) : conn_(conn) {
  const char* host = PQhost(conn_);
  const char* port = PQport(conn_);
  const char* db = PQdb(conn_);
  where_ = std::string(host != nullptr ? host : "?") + ":" + (port != nullptr ? port : "?") + "/" +
           (db != nullptr ? db : "?");
}

PgConnection::~PgConnection() { PQfinish(conn_); }

Result<std::unique_ptr<PgConnection>> PgConnection::open(const std::string& url) {
  // Keywords before "dbname" are defaults: the URL's own settings override them.
  const char* keywords[] = {"connect_timeout", "fallback_application_name", "client_encoding",
                            "dbname", nullptr};
  const char* values[] = {"10", "lookalike", "UTF8", url.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) {
    return make_error(ErrorCode::kResourceExhausted, "libpq could not allocate a connection");
  }
  std::unique_ptr<PgConnection> connection(new PgConnection(conn));
  if (PQstatus(conn) != CONNECTION_OK) {
    return make_error(ErrorCode::kNetwork, "cannot connect to PostgreSQL at " +
                                               connection->where() + ": " +
                                               trimmed(PQerrorMessage(conn)));
  }
  // Server notices ("relation already exists, skipping") are not errors: keep them off stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  // TIMESTAMP columns default to NOW() in the session's zone: UTC, so they read back as UTC.
  // The catalogue's queries are short index lookups and page scans, for which parallel workers
  // and JIT compilation cost more (tens of ms per query) than they save.
  if (auto s =
          connection->exec_command("SELECT set_config('TimeZone', 'UTC', false),"
                                   " set_config('max_parallel_workers_per_gather', '0', false),"
                                   " set_config('jit', 'off', false)");
      !s) {
    return s.error();
  }
  return connection;
}

Result<PgResult> PgConnection::exec(const std::string& sql, const PgParams& params) {
  std::vector<const char*> values(params.values_.size());
  std::vector<int> lengths(params.values_.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    // Text parameters travel as C strings; PostgreSQL text cannot hold NUL bytes anyway.
    if (params.formats_[i] == 0 && params.values_[i].find('\0') != std::string::npos) {
      return make_error(
          ErrorCode::kInvalidArgument,
          "text values cannot contain NUL bytes (parameter $" + std::to_string(i + 1) + ")");
    }
    values[i] = params.is_null_[i] != 0 ? nullptr : params.values_[i].c_str();
    lengths[i] = static_cast<int>(params.values_[i].size());
  }
  PGresult* raw =
      PQexecParams(conn_, sql.c_str(), params.size(), /*paramTypes=*/nullptr, values.data(),
                   lengths.data(), params.formats_.data(), /*resultFormat=*/1);
  PgResult result(raw);
  ExecStatusType status = raw != nullptr ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
    ++succeeded_;
    return result;
  }
  if (raw == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    return make_error(ErrorCode::kNetwork, "lost the connection to PostgreSQL at " + where_ + ": " +
                                               trimmed(PQerrorMessage(conn_)));
  }
  const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
  std::string message = trimmed(PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY));
  if (message.empty()) message = trimmed(PQresultErrorMessage(raw));
  std::string detail = trimmed(PQresultErrorField(raw, PG_DIAG_MESSAGE_DETAIL));
  if (!detail.empty()) message += " (" + detail + ")";
  return make_error(code_for_sqlstate(state != nullptr ? state : ""),
                    "PostgreSQL at " + where_ + ": " + message);
}

Status PgConnection::exec_command(const std::string& sql, const PgParams& params) {
  auto result = exec(sql, params);
  if (!result) return result.error();
  return ok_status();
}

// --- PgPool --------------------------------------------------------------------------------------

PgPool::PgPool(std::string url, std::size_t max_connections)
    : url_(std::move(url)), max_connections_(max_connections == 0 ? 1 : max_connections) {}

PgPool::Lease::~Lease() {
  if (connection_ != nullptr) pool_->release(std::move(connection_));
}

Result<PgPool::Lease> PgPool::acquire() {
  {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !idle_.empty() || open_ < max_connections_; });
    if (!idle_.empty()) {
      std::unique_ptr<PgConnection> connection = std::move(idle_.back());
      idle_.pop_back();
      connection->reset_counter();
      return Lease(this, std::move(connection), /*reused=*/true);
    }
    ++open_;  // reserve a slot; the connection is opened outside the lock
  }
  auto connection = PgConnection::open(url_);
  if (!connection) {
    std::lock_guard lock(mutex_);
    --open_;
    available_.notify_one();
    return connection.error();
  }
  return Lease(this, std::move(connection).value(), /*reused=*/false);
}

void PgPool::release(std::unique_ptr<PgConnection> connection) {
  bool keep = !connection->broken() && connection->idle();
  std::unique_ptr<PgConnection> dropped;
  {
    std::lock_guard lock(mutex_);
    if (keep) {
      idle_.push_back(std::move(connection));
    } else {
      dropped = std::move(connection);
      --open_;
    }
  }
  available_.notify_one();
  // `dropped` (if any) closes here, outside the lock.
}

void PgPool::drop_idle() {
  std::vector<std::unique_ptr<PgConnection>> dropped;
  {
    std::lock_guard lock(mutex_);
    dropped.swap(idle_);
    open_ -= dropped.size();
  }
  available_.notify_all();
}

}  // namespace lookalike::catalog
