#include "catalog/sqlite/sqlite_catalog.h"

#include <algorithm>
#include <map>
#include <set>
#include <system_error>
#include <utility>

#include "catalog/catalog_validation.h"

namespace lookalike::catalog {

namespace {

// Each migration runs once, in order, inside one transaction with the schema_migrations row that
// records it. Never edit a released migration: append a new one.
struct Migration {
  std::int64_t version;
  const char* sql;
};

constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE products (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  external_id TEXT UNIQUE NOT NULL,
  title TEXT NOT NULL,
  description TEXT,
  category TEXT,
  price_cents INTEGER,
  currency TEXT,
  image_url TEXT NOT NULL,
  product_metadata TEXT,
  created_at TEXT,
  updated_at TEXT
);
CREATE INDEX idx_external_id ON products(external_id);
CREATE INDEX idx_category ON products(category);
CREATE TABLE product_images (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  product_id INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  path TEXT NOT NULL,
  url TEXT NOT NULL,
  source TEXT,
  sha256 TEXT NOT NULL,
  size_bytes INTEGER,
  width INTEGER,
  height INTEGER,
  format TEXT,
  etag TEXT,
  created_at TEXT,
  UNIQUE(product_id, position)
);
CREATE INDEX idx_product_images_sha256 ON product_images(sha256);
CREATE INDEX idx_product_images_path ON product_images(path);
CREATE TABLE embeddings (
  sha256 TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  dim INTEGER NOT NULL,
  vector BLOB NOT NULL,
  created_at TEXT,
  PRIMARY KEY (sha256, fingerprint)
);
CREATE TABLE index_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  image_id INTEGER NOT NULL,
  kind INTEGER NOT NULL
);
CREATE TABLE index_state (
  name TEXT PRIMARY KEY,
  applied_seq INTEGER NOT NULL
);
)sql"},
};

constexpr const char* kProductColumns =
    "id, external_id, title, description, category, price_cents, currency, image_url, "
    "product_metadata, created_at, updated_at";

constexpr const char* kImageColumns =
    "id, product_id, position, path, url, source, sha256, size_bytes, width, height, format, "
    "etag, created_at";

// The same columns qualified by the alias `i`, for joins.
constexpr const char* kImageColumnsQualified =
    "i.id, i.product_id, i.position, i.path, i.url, i.source, i.sha256, i.size_bytes, i.width, "
    "i.height, i.format, i.etag, i.created_at";

// Index entries: the image joined with its product and its embedding under ?1. CROSS JOIN fixes
// the loop order (images outermost), so that scans walk product_images by id.
constexpr const char* kIndexEntrySelect =
    "SELECT i.id, i.product_id, p.external_id, p.category, p.price_cents, p.currency, e.dim, "
    "e.vector FROM product_images i CROSS JOIN products p CROSS JOIN embeddings e "
    "WHERE p.id = i.product_id AND e.sha256 = i.sha256 AND e.fingerprint = ?1 ";

constexpr int kDeleteKind = 1;
constexpr int kUpsertKind = 0;

Error not_found(std::string what) { return make_error(ErrorCode::kNotFound, std::move(what)); }

Error invalid_argument(std::string what) {
  return make_error(ErrorCode::kInvalidArgument, std::move(what));
}

Result<Product> read_product(const SqliteStatement& stmt) {
  Product product;
  product.id = stmt.column_int64(0);
  product.external_id = stmt.column_text(1);
  product.title = stmt.column_text(2);
  product.description = stmt.column_text(3);
  product.category = stmt.column_text(4);
  product.price_cents = stmt.column_optional_int64(5);
  product.currency = stmt.column_text(6);
  product.image_url = stmt.column_text(7);
  std::string metadata = stmt.column_text(8);
  if (!metadata.empty()) {
    try {
      product.metadata = nlohmann::json::parse(metadata);
    } catch (const std::exception& e) {
      return make_error(ErrorCode::kCorruptData,
                        "product " + std::to_string(product.id) +
                            ": product_metadata is not valid JSON: " + e.what());
    }
  }
  product.created_at = stmt.column_text(9);
  product.updated_at = stmt.column_text(10);
  return product;
}

ProductImage read_image(const SqliteStatement& stmt, int first = 0) {
  ProductImage image;
  image.id = stmt.column_int64(first + 0);
  image.product_id = stmt.column_int64(first + 1);
  image.position = static_cast<int>(stmt.column_int64(first + 2));
  image.path = stmt.column_text(first + 3);
  image.url = stmt.column_text(first + 4);
  image.source = stmt.column_text(first + 5);
  image.sha256 = stmt.column_text(first + 6);
  image.size_bytes = stmt.column_int64(first + 7);
  image.width = static_cast<int>(stmt.column_int64(first + 8));
  image.height = static_cast<int>(stmt.column_int64(first + 9));
  image.format = stmt.column_text(first + 10);
  image.etag = stmt.column_text(first + 11);
  image.created_at = stmt.column_text(first + 12);
  return image;
}

// Binds the product's editable fields to ?1..?8 (external_id .. product_metadata).
void bind_product_fields(SqliteStatement& stmt, const Product& product,
                         const std::string& image_url, const std::string& metadata) {
  stmt.bind_text(1, product.external_id);
  stmt.bind_text(2, product.title);
  stmt.bind_text_or_null(3, product.description);
  stmt.bind_text_or_null(4, product.category);
  stmt.bind_optional_int64(5, product.price_cents);
  stmt.bind_text_or_null(6, product.currency);
  stmt.bind_text(7, image_url);
  stmt.bind_text(8, metadata);
}

// Binds the image's stored fields to ?1..?9 (path .. etag).
void bind_image_fields(SqliteStatement& stmt, const ProductImage& image) {
  stmt.bind_text(1, image.path);
  stmt.bind_text(2, image.url);
  stmt.bind_text_or_null(3, image.source);
  stmt.bind_text(4, image.sha256);
  stmt.bind_int64(5, image.size_bytes);
  stmt.bind_int64(6, image.width);
  stmt.bind_int64(7, image.height);
  stmt.bind_text_or_null(8, image.format);
  stmt.bind_text_or_null(9, image.etag);
}

bool same_image_fields(const ProductImage& a, const ProductImage& b) {
  return a.path == b.path && a.url == b.url && a.source == b.source && a.sha256 == b.sha256 &&
         a.size_bytes == b.size_bytes && a.width == b.width && a.height == b.height &&
         a.format == b.format && a.etag == b.etag;
}

// What a vector index holds for the product's images.
bool same_index_payload(const Product& a, const Product& b) {
  return a.external_id == b.external_id && a.category == b.category &&
         a.price_cents == b.price_cents && a.currency == b.currency;
}

bool same_product_fields(const Product& a, const Product& b) {
  return same_index_payload(a, b) && a.title == b.title && a.description == b.description &&
         a.image_url == b.image_url && a.metadata == b.metadata;
}

Status check_limit(std::string_view name, std::int64_t value) {
  if (value < 0) {
    return invalid_argument(std::string(name) + " must not be negative, got " +
                            std::to_string(value));
  }
  return ok_status();
}

}  // namespace

// --- opening -------------------------------------------------------------------------------------

Result<std::unique_ptr<SqliteCatalog>> SqliteCatalog::open(const std::filesystem::path& file) {
  if (file.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) {
      return make_error(ErrorCode::kIoError, file.parent_path().string() +
                                                 ": cannot create the directory: " + ec.message());
    }
  }
  auto connection = SqliteConnection::open(file);
  if (!connection) return connection.error();
  std::unique_ptr<SqliteCatalog> catalog(new SqliteCatalog(std::move(*connection)));
  if (auto status = catalog->configure(); !status) return status.error();
  if (auto status = catalog->migrate(); !status) return status.error();
  return catalog;
}

Status SqliteCatalog::configure() {
  // busy_timeout first: the statements after it may wait for another process's lock.
  if (auto s = connection_->exec("PRAGMA busy_timeout = 10000"); !s) return s;
  // 16 KiB pages hold seven 512-d (2 KiB) vectors where 4 KiB pages hold one: the file is ~40%
  // smaller and scans faster. Only takes effect on a new file (before WAL mode is set).
  if (auto s = connection_->exec("PRAGMA page_size = 16384"); !s) return s;
  auto mode = connection_->prepare("PRAGMA journal_mode = WAL");
  if (!mode) return mode.error();
  auto row = mode->step();
  if (!row) return row.error();
  std::string journal_mode = *row ? mode->column_text(0) : "";
  if (journal_mode != "wal") {
    return make_error(ErrorCode::kIoError, connection_->file().string() +
                                               ": cannot switch to WAL journal mode (got \"" +
                                               journal_mode + "\")");
  }
  return connection_->exec(
      "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;"
      "PRAGMA cache_size = -32768;");
}

Status SqliteCatalog::migrate() {
  constexpr std::int64_t kLatest = kMigrations[std::size(kMigrations) - 1].version;
  static_assert(kLatest == kSqliteSchemaVersion);
  auto read_version = [this]() -> Result<std::int64_t> {
    auto exists = connection_->prepare(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
    if (!exists) return exists.error();
    auto row = exists->step();
    if (!row) return row.error();
    if (exists->column_int64(0) == 0) return std::int64_t{0};
    auto version = connection_->prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!version) return version.error();
    row = version->step();
    if (!row) return row.error();
    return version->column_int64(0);
  };
  auto too_new = [this](std::int64_t version) {
    return make_error(ErrorCode::kFailedPrecondition,
                      connection_->file().string() + ": the catalogue's schema is version " +
                          std::to_string(version) + ", newer than this build of lookalike knows (" +
                          std::to_string(kLatest) + "); run a newer lookalike");
  };

  // Read first without a write lock: the common case (up to date) then never waits for writers.
  auto version = read_version();
  if (!version) return version.error();
  if (*version > kLatest) return too_new(*version);
  if (*version == kLatest) return ok_status();

  auto tx = SqliteTransaction::begin(*connection_);
  if (!tx) return tx.error();
  version = read_version();  // another process may have migrated meanwhile
  if (!version) return version.error();
  if (*version > kLatest) return too_new(*version);
  if (auto s = connection_->exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
          "applied_at TEXT)");
      !s) {
    return s;
  }
  for (const auto& migration : kMigrations) {
    if (migration.version <= *version) continue;
    if (auto s = connection_->exec(migration.sql); !s) {
      return s.error().with_context("schema migration " + std::to_string(migration.version));
    }
    auto record =
        connection_->prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)");
    if (!record) return record.error();
    record->bind_int64(1, migration.version);
    record->bind_text(2, now_utc_timestamp());
    if (auto s = record->run(); !s) return s;
  }
  return tx->commit();
}

Result<std::unique_ptr<Catalog>> open_sqlite_catalog(const std::filesystem::path& file) {
  auto catalog = SqliteCatalog::open(file);
  if (!catalog) return catalog.error();
  return std::unique_ptr<Catalog>(std::move(*catalog));
}

// --- locked helpers ------------------------------------------------------------------------------

Result<std::optional<Product>> SqliteCatalog::find_product_locked(std::int64_t id) const {
  auto stmt = connection_->prepare(std::string("SELECT ") + kProductColumns +
                                   " FROM products WHERE id = ?1");
  if (!stmt) return stmt.error();
  stmt->bind_int64(1, id);
  auto row = stmt->step();
  if (!row) return row.error();
  if (!*row) return std::optional<Product>();
  auto product = read_product(*stmt);
  if (!product) return product.error();
  return std::optional<Product>(std::move(*product));
}

Result<std::optional<Product>> SqliteCatalog::find_product_by_external_id_locked(
    const std::string& external_id) const {
  auto stmt = connection_->prepare(std::string("SELECT ") + kProductColumns +
                                   " FROM products WHERE external_id = ?1");
  if (!stmt) return stmt.error();
  stmt->bind_text(1, external_id);
  auto row = stmt->step();
  if (!row) return row.error();
  if (!*row) return std::optional<Product>();
  auto product = read_product(*stmt);
  if (!product) return product.error();
  return std::optional<Product>(std::move(*product));
}

Result<std::vector<ProductImage>> SqliteCatalog::list_images_locked(std::int64_t product_id) const {
  auto stmt = connection_->prepare(std::string("SELECT ") + kImageColumns +
                                   " FROM product_images WHERE product_id = ?1 ORDER BY position");
  if (!stmt) return stmt.error();
  stmt->bind_int64(1, product_id);
  std::vector<ProductImage> images;
  while (true) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) break;
    images.push_back(read_image(*stmt));
  }
  return images;
}

Result<std::optional<ProductImage>> SqliteCatalog::find_image_locked(std::int64_t image_id) const {
  auto stmt = connection_->prepare(std::string("SELECT ") + kImageColumns +
                                   " FROM product_images WHERE id = ?1");
  if (!stmt) return stmt.error();
  stmt->bind_int64(1, image_id);
  auto row = stmt->step();
  if (!row) return row.error();
  if (!*row) return std::optional<ProductImage>();
  return std::optional<ProductImage>(read_image(*stmt));
}

Status SqliteCatalog::log_change_locked(std::int64_t image_id, IndexChange::Kind kind) {
  auto stmt = connection_->prepare("INSERT INTO index_changes (image_id, kind) VALUES (?1, ?2)");
  if (!stmt) return stmt.error();
  stmt->bind_int64(1, image_id);
  stmt->bind_int64(2, kind == IndexChange::Kind::kDelete ? kDeleteKind : kUpsertKind);
  return stmt->run();
}

Status SqliteCatalog::put_embedding_locked(const Embedding& embedding, const std::string& now) {
  auto stmt = connection_->prepare(
      "INSERT INTO embeddings (sha256, fingerprint, dim, vector, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (sha256, fingerprint) DO UPDATE SET "
      "dim = excluded.dim, vector = excluded.vector, created_at = excluded.created_at");
  if (!stmt) return stmt.error();
  stmt->bind_text(1, embedding.sha256);
  stmt->bind_text(2, embedding.fingerprint);
  stmt->bind_int64(3, static_cast<std::int64_t>(embedding.vector.size()));
  stmt->bind_blob(4, encode_vector(embedding.vector));
  stmt->bind_text(5, now);
  return stmt->run();
}

Status SqliteCatalog::collect_images_with_sha256_locked(const std::string& sha256,
                                                        std::set<std::int64_t>& ids) const {
  auto stmt = connection_->prepare("SELECT id FROM product_images WHERE sha256 = ?1");
  if (!stmt) return stmt.error();
  stmt->bind_text(1, sha256);
  while (true) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return ok_status();
    ids.insert(stmt->column_int64(0));
  }
}

Status SqliteCatalog::log_changes_locked(const std::set<std::int64_t>& deletes,
                                         const std::set<std::int64_t>& upserts) {
  for (auto id : deletes) {
    if (auto s = log_change_locked(id, IndexChange::Kind::kDelete); !s) return s;
  }
  for (auto id : upserts) {
    if (deletes.count(id) != 0) continue;  // deleted later in the same write
    if (auto s = log_change_locked(id, IndexChange::Kind::kUpsert); !s) return s;
  }
  return ok_status();
}

Result<std::int64_t> SqliteCatalog::insert_image_locked(std::int64_t product_id, int position,
                                                        const ProductImage& image,
                                                        const std::string& now) {
  auto stmt = connection_->prepare(
      "INSERT INTO product_images (path, url, source, sha256, size_bytes, width, height, format, "
      "etag, product_id, position, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
  if (!stmt) return stmt.error();
  bind_image_fields(*stmt, image);
  stmt->bind_int64(10, product_id);
  stmt->bind_int64(11, position);
  stmt->bind_text(12, now);
  if (auto s = stmt->run(); !s) return s.error();
  return connection_->last_insert_rowid();
}

Result<std::vector<IndexEntry>> SqliteCatalog::read_index_entries_locked(
    SqliteStatement& stmt) const {
  std::vector<IndexEntry> entries;
  while (true) {
    auto row = stmt.step();
    if (!row) return row.error();
    if (!*row) return entries;
    IndexEntry entry;
    entry.image_id = stmt.column_int64(0);
    entry.product_id = stmt.column_int64(1);
    entry.external_id = stmt.column_text(2);
    entry.category = stmt.column_text(3);
    entry.price_cents = stmt.column_optional_int64(4);
    entry.currency = stmt.column_text(5);
    auto vector = decode_vector(stmt.column_blob(7), stmt.column_int64(6));
    if (!vector) {
      return vector.error().with_context(connection_->file().string() + ": image " +
                                         std::to_string(entry.image_id));
    }
    entry.vector = std::move(*vector);
    entries.push_back(std::move(entry));
  }
}

// --- products ------------------------------------------------------------------------------------

Result<Product> SqliteCatalog::get_product(std::int64_t id) const {
  std::lock_guard lock(mutex_);
  auto product = find_product_locked(id);
  if (!product) return product.error();
  if (!*product) return not_found("product " + std::to_string(id) + " does not exist");
  return std::move(**product);
}

Result<Product> SqliteCatalog::get_product_by_external_id(const std::string& external_id) const {
  std::lock_guard lock(mutex_);
  auto product = find_product_by_external_id_locked(external_id);
  if (!product) return product.error();
  if (!*product) return not_found("no product has external_id \"" + external_id + "\"");
  return std::move(**product);
}

Result<std::vector<Product>> SqliteCatalog::get_products(std::span<const std::int64_t> ids) const {
  std::lock_guard lock(mutex_);
  std::vector<Product> products;
  products.reserve(ids.size());
  for (auto id : ids) {
    auto product = find_product_locked(id);
    if (!product) return product.error();
    if (*product) products.push_back(std::move(**product));
  }
  return products;
}

Result<ProductPage> SqliteCatalog::list_products(std::int64_t offset, std::int64_t limit,
                                                 const std::string& category) const {
  if (auto s = check_limit("offset", offset); !s) return s.error();
  if (auto s = check_limit("limit", limit); !s) return s.error();
  std::lock_guard lock(mutex_);
  const std::string where = category.empty() ? "" : " WHERE category = ?3";
  ProductPage page;
  auto count = connection_->prepare("SELECT COUNT(*) FROM products" +
                                    (category.empty() ? std::string() : " WHERE category = ?1"));
  if (!count) return count.error();
  if (!category.empty()) count->bind_text(1, category);
  auto row = count->step();
  if (!row) return row.error();
  page.total = count->column_int64(0);

  auto stmt = connection_->prepare(std::string("SELECT ") + kProductColumns + " FROM products" +
                                   where + " ORDER BY id LIMIT ?1 OFFSET ?2");
  if (!stmt) return stmt.error();
  stmt->bind_int64(1, limit);
  stmt->bind_int64(2, offset);
  if (!category.empty()) stmt->bind_text(3, category);
  while (true) {
    row = stmt->step();
    if (!row) return row.error();
    if (!*row) break;
    auto product = read_product(*stmt);
    if (!product) return product.error();
    page.items.push_back(std::move(*product));
  }
  return page;
}

Result<Product> SqliteCatalog::create_product(const Product& product) {
  if (auto s = validate_product(product); !s) return s.error();
  std::lock_guard lock(mutex_);
  auto tx = SqliteTransaction::begin(*connection_);
  if (!tx) return tx.error();
  auto existing = find_product_by_external_id_locked(product.external_id);
  if (!existing) return existing.error();
  if (*existing) {
    return make_error(ErrorCode::kAlreadyExists, "external_id \"" + product.external_id +
                                                     "\" is already used by product " +
                                                     std::to_string((*existing)->id));
  }
  auto stmt = connection_->prepare(
      "INSERT INTO products (external_id, title, description, category, price_cents, currency, "
      "image_url, product_metadata, created_at, updated_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)");
  if (!stmt) return stmt.error();
  bind_product_fields(*stmt, product, product.image_url, product.metadata.dump());
  stmt->bind_text(9, now_utc_timestamp());
  if (auto s = stmt->run(); !s) return s.error();
  auto stored = find_product_locked(connection_->last_insert_rowid());
  if (!stored) return stored.error();
  if (auto s = tx->commit(); !s) return s.error();
  return std::move(**stored);
}

Result<Product> SqliteCatalog::update_product(const Product& product) {
  if (auto s = validate_product(product); !s) return s.error();
  std::lock_guard lock(mutex_);
  auto tx = SqliteTransaction::begin(*connection_);
  if (!tx) return tx.error();
  auto existing = find_product_locked(product.id);
  if (!existing) return existing.error();
  if (!*existing) return not_found("product " + std::to_string(product.id) + " does not exist");
  if ((*existing)->external_id != product.external_id) {
    auto other = find_product_by_external_id_locked(product.external_id);
    if (!other) return other.error();
    if (*other) {
      return make_error(ErrorCode::kAlreadyExists, "external_id \"" + product.external_id +
                                                       "\" is already used by product " +
                                                       std::to_string((*other)->id));
    }
  }
  auto stmt = connection_->prepare(
      "UPDATE products SET external_id = ?1, title = ?2, description = ?3, category = ?4, "
      "price_cents = ?5, currency = ?6, image_url = ?7, product_metadata = ?8, updated_at = ?9 "
      "WHERE id = ?10");
  if (!stmt) return stmt.error();
  bind_product_fields(*stmt, product, product.image_url, product.metadata.dump());
  stmt->bind_text(9, now_utc_timestamp());
  stmt->bind_int64(10, product.id);
  if (auto s = stmt->run(); !s) return s.error();
  auto images = list_images_locked(product.id);
  if (!images) return images.error();
  std::set<std::int64_t> upserts;
  for (const auto& image : *images) upserts.insert(image.id);
  if (auto s = log_changes_locked({}, upserts); !s) return s.error();
  auto stored = find_product_locked(product.id);
  if (!stored) return stored.error();
  if (auto s = tx->commit(); !s) return s.error();
  return std::move(**stored);
}

Result<std::vector<ProductImage>> SqliteCatalog::delete_product(std::int64_t id) {
  std::lock_guard lock(mutex_);
  auto tx = SqliteTransaction::begin(*connection_);
  if (!tx) return tx.error();
  auto existing = find_product_locked(id);
  if (!existing) return existing.error();
  if (!*existing) return not_found("product " + std::to_string(id) + " does not exist");
  auto images = list_images_locked(id);
  if (!images) return images.error();
  // ON DELETE CASCADE removes the product's images.
  auto stmt = connection_->prepare("DELETE FROM products WHERE id = ?1");
  if (!stmt) return stmt.error();
  stmt->bind_int64(1, id);
  if (auto s = stmt->run(); !s) return s.error();
  std::set<std::int64_t> deletes;
  for (const auto& image : *images) deletes.insert(image.id);
  if (auto s = log_changes_locked(deletes, {}); !s) return s.error();
  if (auto s = tx->commit(); !s) return s.error();
  return std::move(*images);
}

// --- images --------------------------------------------------------------------------------------

Result<std::vector<ProductImage>> SqliteCatalog::list_images(std::int64_t product_id) const {
  std::lock_guard lock(mutex_);
  auto product = find_product_locked(product_id);
  if (!product) return product.error();
  if (!*product) return not_found("product " + std::to_string(product_id) + " does not exist");
  return list_images_locked(product_id);
}

Result<ProductImage> SqliteCatalog::get_image(std::int64_t image_id) const {
  std::lock_guard lock(mutex_);
  auto image = find_image_locked(image_id);
  if (!image) return image.error();
  if (!*image) return not_found("image " + std::to_string(image_id) + " does not exist");
  return std::move(**image);
}

Result<std::optional<ProductImage>> SqliteCatalog::find_image_by_sha256(
    const std::string& sha256) const {
  std::lock_guard lock(mutex_);
  auto stmt = connection_->prepare(std::string("SELECT ") + kImageColumns +
                                   " FROM product_images WHERE sha256 = ?1 ORDER BY id LIMIT 1");
  if (!stmt) return stmt.error();
  stmt->bind_text(1, sha256);
  auto row = stmt->step();
  if (!row) return row.error();
  if (!*row) return std::optional<ProductImage>();
  return std::optional<ProductImage>(read_image(*stmt));
}

Result<ProductImage> SqliteCatalog::add_image(std::int64_t product_id, const ProductImage& image,
                                              const std::optional<Embedding>& embedding) {
  if (auto s = validate_image(image); !s) return s.error();
  if (embedding) {
    if (auto s = validate_embedding(*embedding); !s) return s.error();
  }
  std::lock_guard lock(mutex_);
  auto tx = SqliteTransaction::begin(*connection_);
  if (!tx) return tx.error();
  auto product = find_product_locked(product_id);
  if (!product) return product.error();
  if (!*product) return not_found("product " + std::to_string(product_id) + " does not exist");
  auto next = connection_->prepare(
      "SELECT COALESCE(MAX(position), 0) + 1 FROM product_images WHERE product_id = ?1");
  if (!next) return next.error();
  next->bind_int64(1, product_id);
  auto row = next->step();
  if (!row) return row.error();
  const int position = static_cast<int>(next->column_int64(0));

  const std::string now = now_utc_timestamp();
  std::set<std::int64_t> upserts;
  auto id = insert_image_locked(product_id, position, image, now);
  if (!id) return id.error();
  upserts.insert(*id);
  if (embedding) {
    if (auto s = put_embedding_locked(*embedding, now); !s) return s.error();
    if (auto s = collect_images_with_sha256_locked(embedding->sha256, upserts); !s) {
      return s.error();
    }
  }
  if (position == 1) {
    // The product's first image: image_url names it, as write_products does.
    auto stmt = connection_->prepare("UPDATE products SET image_url = ?1 WHERE id = ?2");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, image.url);
    stmt->bind_int64(2, product_id);
    if (auto s = stmt->run(); !s) return s.error();
  }
  if (auto s = log_changes_locked({}, upserts); !s) return s.error();
  auto stored = find_image_locked(*id);
  if (!stored) return stored.error();
  if (auto s = tx->commit(); !s) return s.error();
  return std::move(**stored);
}

Status SqliteCatalog::delete_image(std::int64_t image_id) {
  std::lock_guard lock(mutex_);
  auto tx = SqliteTransaction::begin(*connection_);
  if (!tx) return tx.error();
  auto stmt = connection_->prepare("DELETE FROM product_images WHERE id = ?1");
  if (!stmt) return stmt.error();
  stmt->bind_int64(1, image_id);
  if (auto s = stmt->run(); !s) return s;
  if (connection_->changes() == 0) {
    return not_found("image " + std::to_string(image_id) + " does not exist");
  }
  if (auto s = log_changes_locked({image_id}, {}); !s) return s;
  return tx->commit();
}

Result<std::int64_t> SqliteCatalog::count_images_with_path(const std::string& path) const {
  std::lock_guard lock(mutex_);
  auto stmt = connection_->prepare("SELECT COUNT(*) FROM product_images WHERE path = ?1");
  if (!stmt) return stmt.error();
  stmt->bind_text(1, path);
  auto row = stmt->step();
  if (!row) return row.error();
  return stmt->column_int64(0);
}

// --- ingestion -----------------------------------------------------------------------------------

Result<std::vector<Product>> SqliteCatalog::write_products(std::span<const ProductWrite> writes) {
  for (std::size_t i = 0; i < writes.size(); ++i) {
    if (auto s = validate_product_write(writes[i]); !s) {
      return s.error().with_context("product " + std::to_string(i) +
                                    " of the batch (external_id \"" +
                                    writes[i].product.external_id.substr(0, 80) + "\")");
    }
  }
  std::lock_guard lock(mutex_);
  auto tx = SqliteTransaction::begin(*connection_);
  if (!tx) return tx.error();
  const std::string now = now_utc_timestamp();
  std::set<std::int64_t> upserts;
  std::set<std::int64_t> deletes;
  std::set<std::string> embedded;
  std::vector<std::int64_t> product_ids;
  product_ids.reserve(writes.size());

  for (const auto& write : writes) {
    const Product& product = write.product;
    std::string image_url = product.image_url;
    if (!write.images.empty()) {
      image_url = std::min_element(write.images.begin(), write.images.end(),
                                   [](const ProductImage& a, const ProductImage& b) {
                                     return a.position < b.position;
                                   })
                      ->url;
    }
    Product wanted = product;
    wanted.image_url = image_url;

    auto existing = find_product_by_external_id_locked(product.external_id);
    if (!existing) return existing.error();
    std::int64_t product_id = 0;
    bool payload_changed = true;
    if (*existing) {
      product_id = (*existing)->id;
      payload_changed = !same_index_payload(**existing, wanted);
      if (!same_product_fields(**existing, wanted)) {
        auto stmt = connection_->prepare(
            "UPDATE products SET external_id = ?1, title = ?2, description = ?3, category = ?4, "
            "price_cents = ?5, currency = ?6, image_url = ?7, product_metadata = ?8, "
            "updated_at = ?9 WHERE id = ?10");
        if (!stmt) return stmt.error();
        bind_product_fields(*stmt, wanted, image_url, wanted.metadata.dump());
        stmt->bind_text(9, now);
        stmt->bind_int64(10, product_id);
        if (auto s = stmt->run(); !s) return s.error();
      }
    } else {
      auto stmt = connection_->prepare(
          "INSERT INTO products (external_id, title, description, category, price_cents, "
          "currency, image_url, product_metadata, created_at, updated_at) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)");
      if (!stmt) return stmt.error();
      bind_product_fields(*stmt, wanted, image_url, wanted.metadata.dump());
      stmt->bind_text(9, now);
      if (auto s = stmt->run(); !s) return s.error();
      product_id = connection_->last_insert_rowid();
    }
    product_ids.push_back(product_id);

    for (const auto& embedding : write.embeddings) {
      if (auto s = put_embedding_locked(embedding, now); !s) return s.error();
      embedded.insert(embedding.sha256);
    }

    auto current = list_images_locked(product_id);
    if (!current) return current.error();
    std::map<int, const ProductImage*> by_position;
    for (const auto& image : *current) by_position.emplace(image.position, &image);
    std::set<int> kept;
    for (const auto& image : write.images) kept.insert(image.position);
    for (const auto& image : *current) {
      if (kept.count(image.position) != 0) continue;
      auto stmt = connection_->prepare("DELETE FROM product_images WHERE id = ?1");
      if (!stmt) return stmt.error();
      stmt->bind_int64(1, image.id);
      if (auto s = stmt->run(); !s) return s.error();
      deletes.insert(image.id);
    }
    for (const auto& image : write.images) {
      auto found = by_position.find(image.position);
      if (found == by_position.end()) {
        auto id = insert_image_locked(product_id, image.position, image, now);
        if (!id) return id.error();
        upserts.insert(*id);
        continue;
      }
      const ProductImage& old = *found->second;
      if (!same_image_fields(old, image)) {
        auto stmt = connection_->prepare(
            "UPDATE product_images SET path = ?1, url = ?2, source = ?3, sha256 = ?4, "
            "size_bytes = ?5, width = ?6, height = ?7, format = ?8, etag = ?9 WHERE id = ?10");
        if (!stmt) return stmt.error();
        bind_image_fields(*stmt, image);
        stmt->bind_int64(10, old.id);
        if (auto s = stmt->run(); !s) return s.error();
        upserts.insert(old.id);
      } else if (payload_changed) {
        upserts.insert(old.id);
      }
    }
  }
  // Every image (of any product) whose bytes got an embedding in this write.
  for (const auto& sha256 : embedded) {
    if (auto s = collect_images_with_sha256_locked(sha256, upserts); !s) return s.error();
  }
  if (auto s = log_changes_locked(deletes, upserts); !s) return s.error();

  std::vector<Product> stored;
  stored.reserve(product_ids.size());
  for (auto id : product_ids) {
    auto product = find_product_locked(id);
    if (!product) return product.error();
    if (!*product) {
      return make_error(ErrorCode::kInternal,
                        "product " + std::to_string(id) + " vanished during write_products");
    }
    stored.push_back(std::move(**product));
  }
  if (auto s = tx->commit(); !s) return s.error();
  return stored;
}

// --- embeddings ----------------------------------------------------------------------------------

Result<bool> SqliteCatalog::has_embedding(const std::string& sha256,
                                          const std::string& fingerprint) const {
  std::lock_guard lock(mutex_);
  auto stmt = connection_->prepare(
      "SELECT EXISTS (SELECT 1 FROM embeddings WHERE sha256 = ?1 AND fingerprint = ?2)");
  if (!stmt) return stmt.error();
  stmt->bind_text(1, sha256);
  stmt->bind_text(2, fingerprint);
  auto row = stmt->step();
  if (!row) return row.error();
  return stmt->column_int64(0) != 0;
}

Result<std::optional<Embedding>> SqliteCatalog::get_embedding(
    const std::string& sha256, const std::string& fingerprint) const {
  std::lock_guard lock(mutex_);
  auto stmt = connection_->prepare(
      "SELECT dim, vector FROM embeddings WHERE sha256 = ?1 AND fingerprint = ?2");
  if (!stmt) return stmt.error();
  stmt->bind_text(1, sha256);
  stmt->bind_text(2, fingerprint);
  auto row = stmt->step();
  if (!row) return row.error();
  if (!*row) return std::optional<Embedding>();
  auto vector = decode_vector(stmt->column_blob(1), stmt->column_int64(0));
  if (!vector) {
    return vector.error().with_context(connection_->file().string() + ": embedding " + sha256);
  }
  return std::optional<Embedding>(Embedding{sha256, fingerprint, std::move(*vector)});
}

Status SqliteCatalog::put_embeddings(std::span<const Embedding> embeddings) {
  for (const auto& embedding : embeddings) {
    if (auto s = validate_embedding(embedding); !s) return s;
  }
  std::lock_guard lock(mutex_);
  auto tx = SqliteTransaction::begin(*connection_);
  if (!tx) return tx.error();
  const std::string now = now_utc_timestamp();
  std::set<std::int64_t> upserts;
  for (const auto& embedding : embeddings) {
    if (auto s = put_embedding_locked(embedding, now); !s) return s;
    if (auto s = collect_images_with_sha256_locked(embedding.sha256, upserts); !s) return s;
  }
  if (auto s = log_changes_locked({}, upserts); !s) return s;
  return tx->commit();
}

Result<std::vector<ProductImage>> SqliteCatalog::images_missing_embedding(
    const std::string& fingerprint, const std::string& after_sha256, std::int64_t limit) const {
  if (auto s = check_limit("limit", limit); !s) return s.error();
  std::lock_guard lock(mutex_);
  auto stmt = connection_->prepare(
      std::string("SELECT ") + kImageColumnsQualified +
      " FROM (SELECT MIN(p.id) AS id FROM product_images p WHERE p.sha256 > ?1 AND NOT EXISTS "
      "(SELECT 1 FROM embeddings e WHERE e.sha256 = p.sha256 AND e.fingerprint = ?2) "
      "GROUP BY p.sha256 ORDER BY p.sha256 LIMIT ?3) m "
      "JOIN product_images i ON i.id = m.id ORDER BY i.sha256");
  if (!stmt) return stmt.error();
  stmt->bind_text(1, after_sha256);
  stmt->bind_text(2, fingerprint);
  stmt->bind_int64(3, limit);
  std::vector<ProductImage> images;
  while (true) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return images;
    images.push_back(read_image(*stmt));
  }
}

Result<std::int64_t> SqliteCatalog::delete_other_embeddings(const std::string& keep_fingerprint) {
  std::lock_guard lock(mutex_);
  auto stmt = connection_->prepare("DELETE FROM embeddings WHERE fingerprint <> ?1");
  if (!stmt) return stmt.error();
  stmt->bind_text(1, keep_fingerprint);
  if (auto s = stmt->run(); !s) return s.error();
  return connection_->changes();
}

// --- index feeds ---------------------------------------------------------------------------------

Result<std::vector<IndexChange>> SqliteCatalog::changes_since(std::int64_t seq,
                                                              std::int64_t limit) const {
  if (auto s = check_limit("limit", limit); !s) return s.error();
  std::lock_guard lock(mutex_);
  auto stmt = connection_->prepare(
      "SELECT seq, image_id, kind FROM index_changes WHERE seq > ?1 ORDER BY seq LIMIT ?2");
  if (!stmt) return stmt.error();
  stmt->bind_int64(1, seq);
  stmt->bind_int64(2, limit);
  std::vector<IndexChange> changes;
  while (true) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return changes;
    IndexChange change;
    change.seq = stmt->column_int64(0);
    change.image_id = stmt->column_int64(1);
    change.kind = stmt->column_int64(2) == kDeleteKind ? IndexChange::Kind::kDelete
                                                       : IndexChange::Kind::kUpsert;
    changes.push_back(change);
  }
}

Result<std::int64_t> SqliteCatalog::last_change_seq() const {
  std::lock_guard lock(mutex_);
  auto stmt = connection_->prepare("SELECT COALESCE(MAX(seq), 0) FROM index_changes");
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  return stmt->column_int64(0);
}

Result<std::vector<IndexEntry>> SqliteCatalog::index_entries(
    std::span<const std::int64_t> image_ids, const std::string& fingerprint) const {
  std::lock_guard lock(mutex_);
  auto stmt = connection_->prepare(std::string(kIndexEntrySelect) + "AND i.id = ?2");
  if (!stmt) return stmt.error();
  std::vector<IndexEntry> entries;
  entries.reserve(image_ids.size());
  for (auto id : image_ids) {
    stmt->reset();
    stmt->bind_text(1, fingerprint);
    stmt->bind_int64(2, id);
    auto found = read_index_entries_locked(*stmt);
    if (!found) return found.error();
    for (auto& entry : *found) entries.push_back(std::move(entry));
  }
  return entries;
}

Result<std::vector<IndexEntry>> SqliteCatalog::scan_index_entries(const std::string& fingerprint,
                                                                  std::int64_t after_image_id,
                                                                  std::int64_t limit) const {
  if (auto s = check_limit("limit", limit); !s) return s.error();
  std::lock_guard lock(mutex_);
  auto stmt =
      connection_->prepare(std::string(kIndexEntrySelect) + "AND i.id > ?2 ORDER BY i.id LIMIT ?3");
  if (!stmt) return stmt.error();
  stmt->bind_text(1, fingerprint);
  stmt->bind_int64(2, after_image_id);
  stmt->bind_int64(3, limit);
  return read_index_entries_locked(*stmt);
}

Result<std::int64_t> SqliteCatalog::index_applied_seq(const std::string& index_name) const {
  std::lock_guard lock(mutex_);
  auto stmt = connection_->prepare("SELECT applied_seq FROM index_state WHERE name = ?1");
  if (!stmt) return stmt.error();
  stmt->bind_text(1, index_name);
  auto row = stmt->step();
  if (!row) return row.error();
  return *row ? stmt->column_int64(0) : std::int64_t{0};
}

Status SqliteCatalog::set_index_applied_seq(const std::string& index_name, std::int64_t seq) {
  if (index_name.empty()) return invalid_argument("index name must not be empty");
  if (auto s = check_limit("applied seq", seq); !s) return s;
  std::lock_guard lock(mutex_);
  auto stmt = connection_->prepare(
      "INSERT INTO index_state (name, applied_seq) VALUES (?1, ?2) "
      "ON CONFLICT (name) DO UPDATE SET applied_seq = excluded.applied_seq");
  if (!stmt) return stmt.error();
  stmt->bind_text(1, index_name);
  stmt->bind_int64(2, seq);
  return stmt->run();
}

Result<CatalogStats> SqliteCatalog::stats() const {
  std::lock_guard lock(mutex_);
  auto stmt = connection_->prepare(
      "SELECT (SELECT COUNT(*) FROM products), (SELECT COUNT(*) FROM product_images), "
      "(SELECT COUNT(DISTINCT sha256) FROM product_images), (SELECT COUNT(*) FROM embeddings), "
      "(SELECT COALESCE(MAX(seq), 0) FROM index_changes)");
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  CatalogStats stats;
  stats.products = stmt->column_int64(0);
  stats.images = stmt->column_int64(1);
  stats.distinct_images = stmt->column_int64(2);
  stats.embeddings = stmt->column_int64(3);
  stats.last_change_seq = stmt->column_int64(4);
  return stats;
}

}  // namespace lookalike::catalog
