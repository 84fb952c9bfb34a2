#include <filesystem>

#include "catalog/catalog.h"
#include "catalog/postgres/postgres_catalog.h"
#include "catalog/sqlite/sqlite_catalog.h"

namespace lookalike::catalog {

Result<std::unique_ptr<Catalog>> open_catalog(const std::string& database_url,
                                              const std::string& data_dir) {
  if (database_url.empty()) {
    if (data_dir.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "either --data-dir or --database-url is needed");
    }
    return open_sqlite_catalog(std::filesystem::path(data_dir) / "catalog.sqlite3");
  }
  if (database_url.starts_with("sqlite://")) {
    std::string path = database_url.substr(9);
    if (path.empty()) return make_error(ErrorCode::kInvalidArgument, "sqlite:// needs a path");
    return open_sqlite_catalog(path);
  }
  if (database_url.starts_with("postgresql://") || database_url.starts_with("postgres://")) {
    return open_postgres_catalog(database_url);
  }
  // Never echo the URL: it may carry a password.
  return make_error(ErrorCode::kInvalidArgument,
                    "--database-url must start with postgresql://, postgres:// or sqlite://");
}

}  // namespace lookalike::catalog
