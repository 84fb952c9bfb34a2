#include "catalog/postgres/postgres_catalog.h"

#include <algorithm>
#include <exception>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "catalog/catalog_validation.h"
#include "catalog/postgres/pg_connection.h"

namespace lookalike::catalog {

namespace {

// The editable fields of `product` in the column order of INSERT/UPDATE products statements.
PgParams product_params(PgParams params, const Product& product, const std::string& metadata) {
  params.text(product.external_id)
      .text(product.title)
      .text_or_null(product.description)
      .text_or_null(product.category)
      .optional_int64(product.price_cents)
      .text_or_null(product.currency)
      .text(product.image_url)
      .text(metadata);
  return params;
}

Error external_id_taken(const Product& product) {
  return make_error(ErrorCode::kAlreadyExists,
                    "another product already has external_id \"" + product.external_id + "\"");
}

using nlohmann::json;

// Advisory lock keys (arbitrary, fixed): one serialises schema migrations, the other the inserts
// into index_changes (see log_changes).
constexpr std::int64_t kMigrationLockKey = 0x4c6b4d6967726174;
constexpr std::int64_t kChangeLogLockKey = 0x4c6b4368674c6f67;

// --- SQL fragments -------------------------------------------------------------------------------

// Product columns of alias p, read by product_from_row (11 columns). Timestamps are stored in UTC
// (the session time zone) and read as ISO 8601.
constexpr const char* kProductColumns =
    "p.id, p.external_id, p.title, COALESCE(p.description, ''), COALESCE(p.category, ''), "
    "(p.price * 100)::bigint, COALESCE(p.currency, ''), p.image_url, "
    "COALESCE(p.product_metadata, '{}'::jsonb)::text, "
    "to_char(p.created_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "to_char(p.updated_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";

// Image columns of alias i, read by image_from_row (13 columns).
constexpr const char* kImageColumns =
    "i.id, i.product_id, i.position, i.path, i.url, COALESCE(i.source, ''), i.sha256, "
    "COALESCE(i.size_bytes, 0), COALESCE(i.width, 0), COALESCE(i.height, 0), "
    "COALESCE(i.format, ''), COALESCE(i.etag, ''), "
    "to_char(i.created_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";

// Index entry columns (8), from kIndexEntrySource.
constexpr const char* kIndexEntryColumns =
    "i.id, i.product_id, p.external_id, COALESCE(p.category, ''), (p.price * 100)::bigint, "
    "COALESCE(p.currency, ''), e.dim, e.vector";
// Images with their embedding under fingerprint $1 and their product. The LATERAL ... LIMIT 1
// subqueries (unique keys, so LIMIT changes nothing) force one index probe per image: with
// ordinary joins the planner, on fresh statistics-less tables after a bulk ingestion, picks hash
// joins that read every embedding for every page of a scan.
constexpr const char* kIndexEntrySource =
    " FROM product_images i"
    " CROSS JOIN LATERAL (SELECT e.dim, e.vector FROM embeddings e"
    "  WHERE e.sha256 = i.sha256 AND e.fingerprint = $1 LIMIT 1) e"
    " CROSS JOIN LATERAL (SELECT p.external_id, p.category, p.price, p.currency FROM products p"
    "  WHERE p.id = i.product_id LIMIT 1) p ";

std::string sql(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto part : parts) out += part;
  return out;
}

// Migration N is the list of statements that takes the schema from version N-1 to N.
const std::vector<std::vector<std::string>>& migrations() {
  static const std::vector<std::vector<std::string>> kMigrations = {
      {
          "CREATE TABLE products ("
          " id BIGSERIAL PRIMARY KEY,"
          " external_id VARCHAR(255) UNIQUE NOT NULL,"
          " title VARCHAR(500) NOT NULL,"
          " description TEXT,"
          " category VARCHAR(100),"
          " price DECIMAL(10,2),"
          " currency VARCHAR(10),"
          " image_url TEXT NOT NULL,"
          " product_metadata JSONB,"
          " created_at TIMESTAMP DEFAULT NOW(),"
          " updated_at TIMESTAMP DEFAULT NOW())",
          "CREATE INDEX idx_external_id ON products(external_id)",
          "CREATE INDEX idx_category ON products(category)",
          "CREATE TABLE product_images ("
          " id BIGSERIAL PRIMARY KEY,"
          " product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,"
          " position INTEGER NOT NULL,"
          " path TEXT NOT NULL,"
          " url TEXT NOT NULL,"
          " source TEXT,"
          " sha256 CHAR(64) NOT NULL,"
          " size_bytes BIGINT,"
          " width INTEGER,"
          " height INTEGER,"
          " format VARCHAR(16),"
          " etag TEXT,"
          " created_at TIMESTAMP DEFAULT NOW(),"
          " UNIQUE(product_id, position))",
          "CREATE INDEX idx_product_images_sha256 ON product_images(sha256)",
          "CREATE INDEX idx_product_images_path ON product_images(path)",
          "CREATE TABLE embeddings ("
          " sha256 CHAR(64) NOT NULL,"
          " fingerprint TEXT NOT NULL,"
          " dim INTEGER NOT NULL,"
          " vector BYTEA NOT NULL,"
          " created_at TIMESTAMP DEFAULT NOW(),"
          " PRIMARY KEY(sha256, fingerprint)) WITH (toast_tuple_target = 8160)",
          // Vectors (2-3 KB for CLIP) stay in the row, uncompressed (floats do not compress):
          // rebuild scans then read no TOAST table.
          "ALTER TABLE embeddings ALTER COLUMN vector SET STORAGE EXTERNAL",
          "CREATE TABLE index_changes ("
          " seq BIGSERIAL PRIMARY KEY,"
          " image_id BIGINT NOT NULL,"
          " kind SMALLINT NOT NULL)",
          "CREATE TABLE index_state ("
          " name TEXT PRIMARY KEY,"
          " applied_seq BIGINT NOT NULL)",
      },
  };
  return kMigrations;
}

// --- values --------------------------------------------------------------------------------------

// A PostgreSQL array literal ("{1,2,3}") of integers.
std::string int_array(const std::vector<std::int64_t>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(values[i]);
  }
  return out + "}";
}

// A PostgreSQL array literal of strings, each quoted ("{\"a\",\"b \\\"c\\\"\"}").
std::string text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

json null_if_empty(const std::string& value) { return value.empty() ? json() : json(value); }

// Serialises a JSON parameter; kInvalidArgument if it holds text that is not UTF-8.
Result<std::string> dump_json(const json& value) {
  try {
    return value.dump();
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::string("cannot encode the values as JSON: ") + e.what());
  }
}

Result<Product> product_from_row(const PgResult& rows, int row, int col = 0) {
  Product product;
  product.id = rows.int64(row, col);
  product.external_id = rows.text(row, col + 1);
  product.title = rows.text(row, col + 2);
  product.description = rows.text(row, col + 3);
  product.category = rows.text(row, col + 4);
  product.price_cents = rows.optional_int64(row, col + 5);
  product.currency = rows.text(row, col + 6);
  product.image_url = rows.text(row, col + 7);
  product.metadata = json::parse(rows.bytes(row, col + 8), nullptr, /*allow_exceptions=*/false);
  if (!product.metadata.is_object()) {
    return make_error(ErrorCode::kCorruptData, "product " + std::to_string(product.id) +
                                                   ": product_metadata is not a JSON object");
  }
  product.created_at = rows.text(row, col + 9);
  product.updated_at = rows.text(row, col + 10);
  return product;
}

Result<std::vector<Product>> products_from_rows(const PgResult& rows) {
  std::vector<Product> products;
  products.reserve(static_cast<std::size_t>(rows.rows()));
  for (int r = 0; r < rows.rows(); ++r) {
    auto product = product_from_row(rows, r);
    if (!product) return product.error();
    products.push_back(std::move(product).value());
  }
  return products;
}

ProductImage image_from_row(const PgResult& rows, int row) {
  ProductImage image;
  image.id = rows.int64(row, 0);
  image.product_id = rows.int64(row, 1);
  image.position = static_cast<int>(rows.int64(row, 2));
  image.path = rows.text(row, 3);
  image.url = rows.text(row, 4);
  image.source = rows.text(row, 5);
  image.sha256 = rows.text(row, 6);
  image.size_bytes = rows.int64(row, 7);
  image.width = static_cast<int>(rows.int64(row, 8));
  image.height = static_cast<int>(rows.int64(row, 9));
  image.format = rows.text(row, 10);
  image.etag = rows.text(row, 11);
  image.created_at = rows.text(row, 12);
  return image;
}

std::vector<ProductImage> images_from_rows(const PgResult& rows) {
  std::vector<ProductImage> images;
  images.reserve(static_cast<std::size_t>(rows.rows()));
  for (int r = 0; r < rows.rows(); ++r) images.push_back(image_from_row(rows, r));
  return images;
}

Result<std::vector<IndexEntry>> index_entries_from_rows(const PgResult& rows) {
  std::vector<IndexEntry> entries;
  entries.reserve(static_cast<std::size_t>(rows.rows()));
  for (int r = 0; r < rows.rows(); ++r) {
    IndexEntry entry;
    entry.image_id = rows.int64(r, 0);
    entry.product_id = rows.int64(r, 1);
    entry.external_id = rows.text(r, 2);
    entry.category = rows.text(r, 3);
    entry.price_cents = rows.optional_int64(r, 4);
    entry.currency = rows.text(r, 5);
    auto vector = decode_vector(rows.bytes(r, 7), rows.int64(r, 6));
    if (!vector) {
      return vector.error().with_context("embedding of image " + std::to_string(entry.image_id));
    }
    entry.vector = std::move(vector).value();
    entries.push_back(std::move(entry));
  }
  return entries;
}

Error not_found(const std::string& what) {
  return make_error(ErrorCode::kNotFound, what + " does not exist");
}

Status check_page(std::int64_t offset, std::int64_t limit) {
  if (offset < 0 || limit < 0) {
    return make_error(ErrorCode::kInvalidArgument, "offset and limit must not be negative (got " +
                                                       std::to_string(offset) + ", " +
                                                       std::to_string(limit) + ")");
  }
  return ok_status();
}

// --- connections and transactions ----------------------------------------------------------------

// Runs `body(connection)` on a pooled connection. A pooled connection the server dropped while it
// sat idle (a restart, an idle timeout) fails on its first statement, before anything was done: the
// call then runs once more on a fresh connection.
template <typename Body>
auto with_connection(PgPool& pool, Body&& body) -> decltype(body(std::declval<PgConnection&>())) {
  for (int attempt = 0;; ++attempt) {
    auto lease = pool.acquire();
    if (!lease) return lease.error();
    PgConnection& connection = lease->connection();
    auto result = body(connection);
    if (result.ok()) return result;
    if (attempt == 0 && lease->reused() && connection.broken() && connection.succeeded() == 0) {
      pool.drop_idle();
      continue;
    }
    return result;
  }
}

// Runs `body(connection)` inside BEGIN ... COMMIT; rolls back when it fails.
template <typename Body>
auto in_transaction(PgPool& pool, Body&& body) -> decltype(body(std::declval<PgConnection&>())) {
  return with_connection(pool, [&](PgConnection& connection) {
    using R = decltype(body(connection));
    if (auto s = connection.exec_command("BEGIN"); !s) return R(s.error());
    auto result = body(connection);
    if (!result.ok()) {
      (void)connection.exec_command("ROLLBACK");  // a broken connection is dropped by the pool
      return result;
    }
    if (auto s = connection.exec_command("COMMIT"); !s) return R(s.error());
    return result;
  });
}

// What one write transaction appends to the change log.
struct ChangeSet {
  std::vector<std::int64_t> deleted_images;
  std::vector<std::int64_t> upserted_images;
  std::vector<std::string> upserted_sha256;     // every image with these bytes
  std::vector<std::int64_t> upserted_products;  // every image of these products

  bool empty() const {
    return deleted_images.empty() && upserted_images.empty() && upserted_sha256.empty() &&
           upserted_products.empty();
  }
};

// Appends `changes` to index_changes. Runs last in its transaction, under a transaction-scoped
// advisory lock: seqs are then drawn in commit order, so a reader of changes_since never sees a
// seq commit before a smaller one (which it would then skip for good).
Status log_changes(PgConnection& connection, const ChangeSet& changes) {
  if (changes.empty()) return ok_status();
  if (auto s = connection.exec_command("SELECT pg_advisory_xact_lock($1::bigint)",
                                       PgParams().int64(kChangeLogLockKey));
      !s) {
    return s;
  }
  return connection.exec_command(
      "INSERT INTO index_changes (image_id, kind) "
      "SELECT image_id, kind FROM ("
      " SELECT DISTINCT d AS image_id, 1::smallint AS kind FROM unnest($1::bigint[]) AS d"
      " UNION ALL"
      " SELECT image_id, 0::smallint FROM ("
      "  SELECT unnest($2::bigint[]) AS image_id"
      "  UNION SELECT id FROM product_images WHERE sha256 = ANY($3::bpchar[])"
      "  UNION SELECT id FROM product_images WHERE product_id = ANY($4::bigint[])"
      " ) u WHERE image_id <> ALL($1::bigint[])"
      ") c ORDER BY kind DESC, image_id",
      PgParams()
          .text(int_array(changes.deleted_images))
          .text(int_array(changes.upserted_images))
          .text(text_array(changes.upserted_sha256))
          .text(int_array(changes.upserted_products)));
}

// Inserts or replaces embeddings (the last of duplicate sha256+fingerprint wins); adds their
// sha256 to `changes`.
Status upsert_embeddings(PgConnection& connection, std::span<const Embedding> embeddings,
                         ChangeSet& changes) {
  if (embeddings.empty()) return ok_status();
  std::map<std::pair<std::string, std::string>, const Embedding*> unique;  // sorted: lock order
  for (const auto& embedding : embeddings) {
    unique[{embedding.sha256, embedding.fingerprint}] = &embedding;
  }
  // The vectors travel as one binary parameter (all of them, back to back); each JSON row says
  // where its vector starts.
  json rows = json::array();
  std::string vectors;
  std::set<std::string> sha256s;
  for (const auto& [key, embedding] : unique) {
    rows.push_back({{"sha256", embedding->sha256},
                    {"fingerprint", embedding->fingerprint},
                    {"dim", embedding->vector.size()},
                    {"start", vectors.size()}});
    vectors += encode_vector(embedding->vector);
    sha256s.insert(embedding->sha256);
  }
  auto text = dump_json(rows);
  if (!text) return text.error();
  if (auto s = connection.exec_command(
          "INSERT INTO embeddings (sha256, fingerprint, dim, vector) "
          "SELECT x.sha256, x.fingerprint, x.dim, substring($2::bytea FROM x.start + 1 FOR x.dim * "
          "4) "
          "FROM jsonb_to_recordset($1::jsonb) "
          " AS x(sha256 text, fingerprint text, dim integer, start integer) "
          "ORDER BY x.sha256, x.fingerprint "
          "ON CONFLICT (sha256, fingerprint) DO UPDATE "
          "SET dim = EXCLUDED.dim, vector = EXCLUDED.vector, created_at = NOW()",
          PgParams().text(std::move(text).value()).bytes(std::move(vectors)));
      !s) {
    return s;
  }
  changes.upserted_sha256.insert(changes.upserted_sha256.end(), sha256s.begin(), sha256s.end());
  return ok_status();
}

// The product fields an index entry carries: when they change, its images are re-indexed.
bool same_payload(const Product& a, const Product& b) {
  return a.external_id == b.external_id && a.category == b.category &&
         a.price_cents == b.price_cents && a.currency == b.currency;
}

bool same_stored_image(const ProductImage& a, const ProductImage& b) {
  return a.path == b.path && a.url == b.url && a.source == b.source && a.sha256 == b.sha256 &&
         a.size_bytes == b.size_bytes && a.width == b.width && a.height == b.height &&
         a.format == b.format && a.etag == b.etag;
}

json image_json(const ProductImage& image) {
  return {{"id", image.id},
          {"product_id", image.product_id},
          {"position", image.position},
          {"path", image.path},
          {"url", image.url},
          {"source", null_if_empty(image.source)},
          {"sha256", image.sha256},
          {"size_bytes", image.size_bytes},
          {"width", image.width},
          {"height", image.height},
          {"format", null_if_empty(image.format)},
          {"etag", null_if_empty(image.etag)}};
}

constexpr const char* kImageRecordset =
    " FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, product_id bigint, position integer,"
    " path text, url text, source text, sha256 text, size_bytes bigint, width integer,"
    " height integer, format text, etag text) ";

// How a write_products batch changes the stored images.
struct ImageDiff {
  std::vector<std::int64_t> deleted;
  json updates = json::array();  // image_json rows with the id to update
  json inserts = json::array();  // image_json rows without an id
};

// Matches `images` (the product's complete new list) with the product's stored images on
// position: new positions are inserted, changed ones updated in place (keeping their id), missing
// ones deleted. Images whose bytes or path changed, or all of them when the product's index
// payload changed, are logged as upserts; inserted ones are logged once they have an id.
void diff_images(std::int64_t product_id, const std::vector<ProductImage>& images,
                 bool payload_changed,
                 const std::map<std::pair<std::int64_t, int>, ProductImage>& existing,
                 ImageDiff& diff, ChangeSet& changes) {
  std::set<int> positions;
  for (const auto& image : images) {
    positions.insert(image.position);
    ProductImage row = image;
    row.product_id = product_id;
    auto it = existing.find({product_id, image.position});
    if (it == existing.end()) {
      row.id = 0;
      diff.inserts.push_back(image_json(row));
      continue;
    }
    const ProductImage& before = it->second;
    if (!same_stored_image(before, image)) {
      row.id = before.id;
      diff.updates.push_back(image_json(row));
    }
    if (payload_changed || before.sha256 != image.sha256 || before.path != image.path) {
      changes.upserted_images.push_back(before.id);
    }
  }
  for (auto it = existing.lower_bound({product_id, 0});
       it != existing.end() && it->first.first == product_id; ++it) {
    if (!positions.contains(it->first.second)) {
      diff.deleted.push_back(it->second.id);
      changes.deleted_images.push_back(it->second.id);
    }
  }
}

// Deletes, updates and inserts (one statement each) what `diff` says; logs inserted image ids.
Status apply_image_diff(PgConnection& connection, const ImageDiff& diff, ChangeSet& changes) {
  if (!diff.deleted.empty()) {
    if (auto s = connection.exec_command("DELETE FROM product_images WHERE id = ANY($1::bigint[])",
                                         PgParams().text(int_array(diff.deleted)));
        !s) {
      return s;
    }
  }
  if (!diff.updates.empty()) {
    auto text = dump_json(diff.updates);
    if (!text) return text.error();
    if (auto s = connection.exec_command(
            sql({"UPDATE product_images AS i SET path = x.path, url = x.url,"
                 " source = x.source, sha256 = x.sha256, size_bytes = x.size_bytes,"
                 " width = x.width, height = x.height, format = x.format, etag = x.etag",
                 kImageRecordset, "WHERE i.id = x.id"}),
            PgParams().text(std::move(text).value()));
        !s) {
      return s;
    }
  }
  if (!diff.inserts.empty()) {
    auto text = dump_json(diff.inserts);
    if (!text) return text.error();
    auto ids = connection.exec(
        sql({"INSERT INTO product_images (product_id, position, path, url, source, sha256,"
             " size_bytes, width, height, format, etag)"
             " SELECT x.product_id, x.position, x.path, x.url, x.source, x.sha256,"
             " x.size_bytes, x.width, x.height, x.format, x.etag",
             kImageRecordset, "ORDER BY x.product_id, x.position RETURNING id"}),
        PgParams().text(std::move(text).value()));
    if (!ids) return ids.error();
    for (int r = 0; r < ids->rows(); ++r) changes.upserted_images.push_back(ids->int64(r, 0));
  }
  return ok_status();
}

}  // namespace

// --- opening -------------------------------------------------------------------------------------

PostgresCatalog::PostgresCatalog(std::unique_ptr<PgPool> pool) : pool_(std::move(pool)) {}

PostgresCatalog::~PostgresCatalog() = default;

Result<std::unique_ptr<PostgresCatalog>> PostgresCatalog::open(const std::string& url,
                                                               std::size_t max_connections) {
  if (!url.starts_with("postgresql://") && !url.starts_with("postgres://")) {
    return make_error(ErrorCode::kInvalidArgument,
                      "a PostgreSQL database URL starts with postgresql:// or postgres://");
  }
  try {
    std::unique_ptr<PostgresCatalog> catalog(
        new PostgresCatalog(std::make_unique<PgPool>(url, max_connections)));
    if (auto s = catalog->migrate(); !s) return s.error();
    return catalog;
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInternal, std::string("opening the catalogue: ") + e.what());
  }
}

Result<std::unique_ptr<Catalog>> open_postgres_catalog(const std::string& url) {
  auto catalog = PostgresCatalog::open(url);
  if (!catalog) return catalog.error();
  return std::unique_ptr<Catalog>(std::move(catalog).value());
}

Status PostgresCatalog::migrate() {
  const auto& steps = migrations();
  const int latest = static_cast<int>(steps.size());
  return in_transaction(*pool_, [&](PgConnection& c) -> Status {
    // Held until COMMIT: a second process waits here, then finds the schema migrated.
    if (auto s = c.exec_command("SELECT pg_advisory_xact_lock($1::bigint)",
                                PgParams().int64(kMigrationLockKey));
        !s) {
      return s;
    }
    if (auto s =
            c.exec_command("CREATE TABLE IF NOT EXISTS schema_migrations ("
                           " version INTEGER PRIMARY KEY, applied_at TIMESTAMP DEFAULT NOW())");
        !s) {
      return s;
    }
    auto current = c.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!current) return current.error();
    const auto version = current->int64(0, 0);
    if (version > latest) {
      return make_error(ErrorCode::kFailedPrecondition,
                        "the catalogue's schema is version " + std::to_string(version) +
                            ", newer than this build supports (" + std::to_string(latest) +
                            "); upgrade lookalike");
    }
    for (int v = static_cast<int>(version) + 1; v <= latest; ++v) {
      for (const auto& statement : steps[static_cast<std::size_t>(v - 1)]) {
        if (auto s = c.exec_command(statement); !s) {
          return s.error().with_context("schema migration " + std::to_string(v));
        }
      }
      if (auto s = c.exec_command("INSERT INTO schema_migrations (version) VALUES ($1::integer)",
                                  PgParams().int64(v));
          !s) {
        return s;
      }
    }
    return ok_status();
  });
}

// --- products ------------------------------------------------------------------------------------

Result<Product> PostgresCatalog::get_product(std::int64_t id) const {
  return with_connection(*pool_, [&](PgConnection& c) -> Result<Product> {
    auto rows =
        c.exec(sql({"SELECT ", kProductColumns, " FROM products p WHERE p.id = $1::bigint"}),
               PgParams().int64(id));
    if (!rows) return rows.error();
    if (rows->rows() == 0) return not_found("product " + std::to_string(id));
    return product_from_row(*rows, 0);
  });
}

Result<Product> PostgresCatalog::get_product_by_external_id(const std::string& external_id) const {
  return with_connection(*pool_, [&](PgConnection& c) -> Result<Product> {
    auto rows =
        c.exec(sql({"SELECT ", kProductColumns, " FROM products p WHERE p.external_id = $1"}),
               PgParams().text(external_id));
    if (!rows) return rows.error();
    if (rows->rows() == 0) return not_found("product with external_id \"" + external_id + "\"");
    return product_from_row(*rows, 0);
  });
}

Result<std::vector<Product>> PostgresCatalog::get_products(
    std::span<const std::int64_t> ids) const {
  if (ids.empty()) return std::vector<Product>{};
  return with_connection(*pool_, [&](PgConnection& c) -> Result<std::vector<Product>> {
    auto rows =
        c.exec(sql({"SELECT ", kProductColumns, " FROM products p WHERE p.id = ANY($1::bigint[])"}),
               PgParams().text(int_array({ids.begin(), ids.end()})));
    if (!rows) return rows.error();
    auto found = products_from_rows(*rows);
    if (!found) return found.error();
    std::unordered_map<std::int64_t, const Product*> by_id;
    for (const auto& product : *found) by_id[product.id] = &product;
    std::vector<Product> products;
    products.reserve(ids.size());
    for (auto id : ids) {
      if (auto it = by_id.find(id); it != by_id.end()) products.push_back(*it->second);
    }
    return products;
  });
}

Result<ProductPage> PostgresCatalog::list_products(std::int64_t offset, std::int64_t limit,
                                                   const std::string& category) const {
  if (auto s = check_page(offset, limit); !s) return s.error();
  return with_connection(*pool_, [&](PgConnection& c) -> Result<ProductPage> {
    // One statement (one snapshot) for the count and the page; the count row comes back even when
    // the page is empty.
    auto rows = c.exec(sql({"SELECT t.total, ", kProductColumns,
                            " FROM (SELECT count(*) AS total FROM products"
                            "       WHERE $1::text = '' OR category = $1::text) t"
                            " LEFT JOIN LATERAL (SELECT * FROM products"
                            "       WHERE $1::text = '' OR category = $1::text"
                            "       ORDER BY id OFFSET $2::bigint LIMIT $3::bigint) p ON true"
                            " ORDER BY p.id"}),
                       PgParams().text(category).int64(offset).int64(limit));
    if (!rows) return rows.error();
    ProductPage page;
    for (int r = 0; r < rows->rows(); ++r) {
      page.total = rows->int64(r, 0);
      if (rows->is_null(r, 1)) continue;
      auto product = product_from_row(*rows, r, 1);
      if (!product) return product.error();
      page.items.push_back(std::move(product).value());
    }
    return page;
  });
}

Result<Product> PostgresCatalog::create_product(const Product& product) {
  if (auto s = validate_product(product); !s) return s.error();
  auto metadata = dump_json(product.metadata);
  if (!metadata) return metadata.error();
  return with_connection(*pool_, [&](PgConnection& c) -> Result<Product> {
    auto rows =
        c.exec(sql({"INSERT INTO products AS p (external_id, title, description, category, price,"
                    " currency, image_url, product_metadata)"
                    " VALUES ($1, $2, $3, $4, $5::numeric / 100, $6, $7, $8::jsonb) RETURNING ",
                    kProductColumns}),
               product_params(PgParams(), product, *metadata));
    if (!rows) {
      if (rows.error().code == ErrorCode::kAlreadyExists) return external_id_taken(product);
      return rows.error();
    }
    return product_from_row(*rows, 0);
  });
}

Result<Product> PostgresCatalog::update_product(const Product& product) {
  if (auto s = validate_product(product); !s) return s.error();
  auto metadata = dump_json(product.metadata);
  if (!metadata) return metadata.error();
  return in_transaction(*pool_, [&](PgConnection& c) -> Result<Product> {
    auto rows =
        c.exec(sql({"UPDATE products AS p SET external_id = $2, title = $3, description = $4,"
                    " category = $5, price = $6::numeric / 100, currency = $7, image_url = $8,"
                    " product_metadata = $9::jsonb, updated_at = NOW()"
                    " WHERE p.id = $1::bigint RETURNING ",
                    kProductColumns}),
               product_params(PgParams().int64(product.id), product, *metadata));
    if (!rows) {
      if (rows.error().code == ErrorCode::kAlreadyExists) return external_id_taken(product);
      return rows.error();
    }
    if (rows->rows() == 0) return not_found("product " + std::to_string(product.id));
    ChangeSet changes;
    changes.upserted_products.push_back(product.id);
    if (auto s = log_changes(c, changes); !s) return s.error();
    return product_from_row(*rows, 0);
  });
}

Result<std::vector<ProductImage>> PostgresCatalog::delete_product(std::int64_t id) {
  return in_transaction(*pool_, [&](PgConnection& c) -> Result<std::vector<ProductImage>> {
    auto product =
        c.exec("SELECT id FROM products WHERE id = $1::bigint FOR UPDATE", PgParams().int64(id));
    if (!product) return product.error();
    if (product->rows() == 0) return not_found("product " + std::to_string(id));
    auto rows = c.exec(sql({"DELETE FROM product_images AS i WHERE i.product_id = $1::bigint"
                            " RETURNING ",
                            kImageColumns}),
                       PgParams().int64(id));
    if (!rows) return rows.error();
    if (auto s = c.exec_command("DELETE FROM products WHERE id = $1::bigint", PgParams().int64(id));
        !s) {
      return s.error();
    }
    auto images = images_from_rows(*rows);
    std::sort(images.begin(), images.end(),
              [](const ProductImage& a, const ProductImage& b) { return a.position < b.position; });
    ChangeSet changes;
    for (const auto& image : images) changes.deleted_images.push_back(image.id);
    if (auto s = log_changes(c, changes); !s) return s.error();
    return images;
  });
}

// --- images --------------------------------------------------------------------------------------

Result<std::vector<ProductImage>> PostgresCatalog::list_images(std::int64_t product_id) const {
  return with_connection(*pool_, [&](PgConnection& c) -> Result<std::vector<ProductImage>> {
    auto rows = c.exec(sql({"SELECT ", kImageColumns,
                            " FROM product_images i WHERE i.product_id = $1::bigint"
                            " ORDER BY i.position"}),
                       PgParams().int64(product_id));
    if (!rows) return rows.error();
    if (rows->rows() == 0) {
      auto product =
          c.exec("SELECT 1 FROM products WHERE id = $1::bigint", PgParams().int64(product_id));
      if (!product) return product.error();
      if (product->rows() == 0) return not_found("product " + std::to_string(product_id));
    }
    return images_from_rows(*rows);
  });
}

Result<ProductImage> PostgresCatalog::get_image(std::int64_t image_id) const {
  return with_connection(*pool_, [&](PgConnection& c) -> Result<ProductImage> {
    auto rows =
        c.exec(sql({"SELECT ", kImageColumns, " FROM product_images i WHERE i.id = $1::bigint"}),
               PgParams().int64(image_id));
    if (!rows) return rows.error();
    if (rows->rows() == 0) return not_found("image " + std::to_string(image_id));
    return image_from_row(*rows, 0);
  });
}

Result<std::optional<ProductImage>> PostgresCatalog::find_image_by_sha256(
    const std::string& sha256) const {
  return with_connection(*pool_, [&](PgConnection& c) -> Result<std::optional<ProductImage>> {
    auto rows = c.exec(sql({"SELECT ", kImageColumns,
                            " FROM product_images i WHERE i.sha256 = $1::bpchar"
                            " ORDER BY i.id LIMIT 1"}),
                       PgParams().text(sha256));
    if (!rows) return rows.error();
    if (rows->rows() == 0) return std::optional<ProductImage>();
    return std::optional<ProductImage>(image_from_row(*rows, 0));
  });
}

Result<ProductImage> PostgresCatalog::add_image(std::int64_t product_id, const ProductImage& image,
                                                const std::optional<Embedding>& embedding) {
  if (auto s = validate_image(image); !s) return s.error();
  if (embedding) {
    if (auto s = validate_embedding(*embedding); !s) return s.error();
  }
  return in_transaction(*pool_, [&](PgConnection& c) -> Result<ProductImage> {
    // Locking the product row serialises position allocation for it.
    auto product = c.exec("SELECT id FROM products WHERE id = $1::bigint FOR UPDATE",
                          PgParams().int64(product_id));
    if (!product) return product.error();
    if (product->rows() == 0) return not_found("product " + std::to_string(product_id));
    auto rows = c.exec(
        sql({"INSERT INTO product_images AS i (product_id, position, path, url, source, sha256,"
             " size_bytes, width, height, format, etag)"
             " SELECT $1::bigint, COALESCE(MAX(position), 0) + 1, $2, $3, $4, $5, $6::bigint,"
             " $7::integer, $8::integer, $9, $10"
             " FROM product_images WHERE product_id = $1::bigint RETURNING ",
             kImageColumns}),
        PgParams()
            .int64(product_id)
            .text(image.path)
            .text(image.url)
            .text_or_null(image.source)
            .text(image.sha256)
            .int64(image.size_bytes)
            .int64(image.width)
            .int64(image.height)
            .text_or_null(image.format)
            .text_or_null(image.etag));
    if (!rows) return rows.error();
    ProductImage stored = image_from_row(*rows, 0);
    if (stored.position == 1) {
      // The product's first image is its image_url (as write_products keeps it).
      if (auto s = c.exec_command(
              "UPDATE products SET image_url = $2, updated_at = NOW() WHERE id = $1::bigint",
              PgParams().int64(product_id).text(stored.url));
          !s) {
        return s.error();
      }
    }
    ChangeSet changes;
    changes.upserted_images.push_back(stored.id);
    if (embedding) {
      if (auto s = upsert_embeddings(c, std::span(&*embedding, 1), changes); !s) {
        return s.error();
      }
    }
    if (auto s = log_changes(c, changes); !s) return s.error();
    return stored;
  });
}

Status PostgresCatalog::delete_image(std::int64_t image_id) {
  return in_transaction(*pool_, [&](PgConnection& c) -> Status {
    auto rows = c.exec("DELETE FROM product_images WHERE id = $1::bigint RETURNING id",
                       PgParams().int64(image_id));
    if (!rows) return rows.error();
    if (rows->rows() == 0) return not_found("image " + std::to_string(image_id));
    ChangeSet changes;
    changes.deleted_images.push_back(image_id);
    return log_changes(c, changes);
  });
}

Result<std::int64_t> PostgresCatalog::count_images_with_path(const std::string& path) const {
  return with_connection(*pool_, [&](PgConnection& c) -> Result<std::int64_t> {
    auto rows =
        c.exec("SELECT count(*) FROM product_images WHERE path = $1", PgParams().text(path));
    if (!rows) return rows.error();
    return rows->int64(0, 0);
  });
}

// --- ingestion -----------------------------------------------------------------------------------

Result<std::vector<Product>> PostgresCatalog::write_products(std::span<const ProductWrite> writes) {
  if (writes.empty()) return std::vector<Product>{};
  for (std::size_t i = 0; i < writes.size(); ++i) {
    if (auto s = validate_product_write(writes[i]); !s) {
      return s.error().with_context("product \"" + writes[i].product.external_id + "\"");
    }
  }
  // A product written twice in one batch ends as its last write (as if written in order); the
  // rows go to the server sorted by external_id so that concurrent batches lock in one order.
  std::map<std::string, const ProductWrite*> latest;
  for (const auto& write : writes) latest[write.product.external_id] = &write;
  std::vector<std::string> external_ids;
  json product_rows = json::array();
  for (const auto& [external_id, write] : latest) {
    const Product& p = write->product;
    std::string image_url = p.image_url;
    if (!write->images.empty()) {
      image_url = std::min_element(write->images.begin(), write->images.end(),
                                   [](const ProductImage& a, const ProductImage& b) {
                                     return a.position < b.position;
                                   })
                      ->url;
    }
    external_ids.push_back(external_id);
    product_rows.push_back({{"external_id", p.external_id},
                            {"title", p.title},
                            {"description", null_if_empty(p.description)},
                            {"category", null_if_empty(p.category)},
                            {"price_cents", p.price_cents ? json(*p.price_cents) : json()},
                            {"currency", null_if_empty(p.currency)},
                            {"image_url", image_url},
                            {"metadata", p.metadata}});
  }
  auto products_json = dump_json(product_rows);
  if (!products_json) return products_json.error();
  std::vector<Embedding> embeddings;
  for (const auto& write : writes) {
    embeddings.insert(embeddings.end(), write.embeddings.begin(), write.embeddings.end());
  }

  return in_transaction(*pool_, [&](PgConnection& c) -> Result<std::vector<Product>> {
    // 1. Lock the products that exist and remember their index payload.
    auto old_rows = c.exec(sql({"SELECT ", kProductColumns,
                                " FROM products p WHERE p.external_id = ANY($1::text[])"
                                " ORDER BY p.external_id FOR UPDATE"}),
                           PgParams().text(text_array(external_ids)));
    if (!old_rows) return old_rows.error();
    auto old_products = products_from_rows(*old_rows);
    if (!old_products) return old_products.error();
    std::unordered_map<std::string, Product> old_by_external_id;
    for (auto& product : *old_products) {
      old_by_external_id.emplace(product.external_id, std::move(product));
    }

    // 2. Insert or update every product in one statement.
    auto stored_rows =
        c.exec(sql({"INSERT INTO products AS p (external_id, title, description, category, price,"
                    " currency, image_url, product_metadata)"
                    " SELECT x.external_id, x.title, x.description, x.category,"
                    " x.price_cents::numeric / 100, x.currency, x.image_url, x.metadata"
                    " FROM jsonb_to_recordset($1::jsonb) AS x(external_id text, title text,"
                    " description text, category text, price_cents bigint, currency text,"
                    " image_url text, metadata jsonb)"
                    " ORDER BY x.external_id"
                    " ON CONFLICT (external_id) DO UPDATE SET title = EXCLUDED.title,"
                    " description = EXCLUDED.description, category = EXCLUDED.category,"
                    " price = EXCLUDED.price, currency = EXCLUDED.currency,"
                    " image_url = EXCLUDED.image_url, product_metadata = EXCLUDED.product_metadata,"
                    " updated_at = NOW()"
                    " RETURNING ",
                    kProductColumns}),
               PgParams().text(*products_json));
    if (!stored_rows) return stored_rows.error();
    auto stored = products_from_rows(*stored_rows);
    if (!stored) return stored.error();
    std::unordered_map<std::string, const Product*> stored_by_external_id;
    std::vector<std::int64_t> product_ids;
    for (const auto& product : *stored) {
      stored_by_external_id[product.external_id] = &product;
      product_ids.push_back(product.id);
    }

    if (stored_by_external_id.size() != latest.size()) {
      return make_error(ErrorCode::kInternal, "the product upsert returned " +
                                                  std::to_string(stored->size()) + " rows for " +
                                                  std::to_string(latest.size()) + " products");
    }

    // 3. Diff each product's images against the stored ones, matching on position.
    auto image_rows = c.exec(sql({"SELECT ", kImageColumns,
                                  " FROM product_images i WHERE i.product_id = ANY($1::bigint[])"
                                  " ORDER BY i.id"}),
                             PgParams().text(int_array(product_ids)));
    if (!image_rows) return image_rows.error();
    std::map<std::pair<std::int64_t, int>, ProductImage> existing;  // (product, position)
    for (auto& image : images_from_rows(*image_rows)) {
      existing.emplace(std::pair(image.product_id, image.position), std::move(image));
    }
    ChangeSet changes;
    ImageDiff diff;
    for (const auto& [external_id, write] : latest) {
      const Product& product = *stored_by_external_id.find(external_id)->second;
      auto old = old_by_external_id.find(external_id);
      const bool payload_changed =
          old != old_by_external_id.end() && !same_payload(old->second, product);
      diff_images(product.id, write->images, payload_changed, existing, diff, changes);
    }
    if (auto s = apply_image_diff(c, diff, changes); !s) return s.error();

    // 4. New embeddings (their images, in this batch or not, are re-indexed), then the log.
    if (auto s = upsert_embeddings(c, embeddings, changes); !s) return s.error();
    if (auto s = log_changes(c, changes); !s) return s.error();

    std::vector<Product> result;
    result.reserve(writes.size());
    for (const auto& write : writes) {
      result.push_back(*stored_by_external_id.find(write.product.external_id)->second);
    }
    return result;
  });
}

// --- embeddings ----------------------------------------------------------------------------------

Result<bool> PostgresCatalog::has_embedding(const std::string& sha256,
                                            const std::string& fingerprint) const {
  return with_connection(*pool_, [&](PgConnection& c) -> Result<bool> {
    auto rows = c.exec("SELECT 1 FROM embeddings WHERE sha256 = $1::bpchar AND fingerprint = $2",
                       PgParams().text(sha256).text(fingerprint));
    if (!rows) return rows.error();
    return rows->rows() > 0;
  });
}

Result<std::optional<Embedding>> PostgresCatalog::get_embedding(
    const std::string& sha256, const std::string& fingerprint) const {
  return with_connection(*pool_, [&](PgConnection& c) -> Result<std::optional<Embedding>> {
    auto rows =
        c.exec("SELECT dim, vector FROM embeddings WHERE sha256 = $1::bpchar AND fingerprint = $2",
               PgParams().text(sha256).text(fingerprint));
    if (!rows) return rows.error();
    if (rows->rows() == 0) return std::optional<Embedding>();
    auto vector = decode_vector(rows->bytes(0, 1), rows->int64(0, 0));
    if (!vector) return vector.error().with_context("embedding of " + sha256);
    return std::optional<Embedding>(Embedding{sha256, fingerprint, std::move(vector).value()});
  });
}

Status PostgresCatalog::put_embeddings(std::span<const Embedding> embeddings) {
  if (embeddings.empty()) return ok_status();
  for (const auto& embedding : embeddings) {
    if (auto s = validate_embedding(embedding); !s) return s;
  }
  return in_transaction(*pool_, [&](PgConnection& c) -> Status {
    ChangeSet changes;
    if (auto s = upsert_embeddings(c, embeddings, changes); !s) return s;
    return log_changes(c, changes);
  });
}

Result<std::vector<ProductImage>> PostgresCatalog::images_missing_embedding(
    const std::string& fingerprint, const std::string& after_sha256, std::int64_t limit) const {
  if (auto s = check_page(0, limit); !s) return s.error();
  return with_connection(*pool_, [&](PgConnection& c) -> Result<std::vector<ProductImage>> {
    auto rows =
        c.exec(sql({"SELECT DISTINCT ON (i.sha256) ", kImageColumns,
                    " FROM product_images i WHERE i.sha256 > $2::bpchar AND NOT EXISTS ("
                    "  SELECT 1 FROM embeddings e WHERE e.sha256 = i.sha256 AND e.fingerprint = $1)"
                    " ORDER BY i.sha256, i.id LIMIT $3::bigint"}),
               PgParams().text(fingerprint).text(after_sha256).int64(limit));
    if (!rows) return rows.error();
    return images_from_rows(*rows);
  });
}

Result<std::int64_t> PostgresCatalog::delete_other_embeddings(const std::string& keep_fingerprint) {
  return with_connection(*pool_, [&](PgConnection& c) -> Result<std::int64_t> {
    auto rows =
        c.exec("DELETE FROM embeddings WHERE fingerprint <> $1", PgParams().text(keep_fingerprint));
    if (!rows) return rows.error();
    return rows->affected_rows();
  });
}

// --- what vector indexes are built from ----------------------------------------------------------

Result<std::vector<IndexChange>> PostgresCatalog::changes_since(std::int64_t seq,
                                                                std::int64_t limit) const {
  if (auto s = check_page(0, limit); !s) return s.error();
  return with_connection(*pool_, [&](PgConnection& c) -> Result<std::vector<IndexChange>> {
    auto rows = c.exec(
        "SELECT seq, image_id, kind FROM index_changes WHERE seq > $1::bigint"
        " ORDER BY seq LIMIT $2::bigint",
        PgParams().int64(seq).int64(limit));
    if (!rows) return rows.error();
    std::vector<IndexChange> changes;
    changes.reserve(static_cast<std::size_t>(rows->rows()));
    for (int r = 0; r < rows->rows(); ++r) {
      changes.push_back(
          {rows->int64(r, 0), rows->int64(r, 1),
           rows->int64(r, 2) == 1 ? IndexChange::Kind::kDelete : IndexChange::Kind::kUpsert});
    }
    return changes;
  });
}

Result<std::int64_t> PostgresCatalog::last_change_seq() const {
  return with_connection(*pool_, [&](PgConnection& c) -> Result<std::int64_t> {
    auto rows = c.exec("SELECT COALESCE(MAX(seq), 0) FROM index_changes");
    if (!rows) return rows.error();
    return rows->int64(0, 0);
  });
}

Result<std::vector<IndexEntry>> PostgresCatalog::index_entries(
    std::span<const std::int64_t> image_ids, const std::string& fingerprint) const {
  if (image_ids.empty()) return std::vector<IndexEntry>{};
  return with_connection(*pool_, [&](PgConnection& c) -> Result<std::vector<IndexEntry>> {
    auto rows = c.exec(
        sql({"SELECT ", kIndexEntryColumns, kIndexEntrySource, "WHERE i.id = ANY($2::bigint[])"}),
        PgParams().text(fingerprint).text(int_array({image_ids.begin(), image_ids.end()})));
    if (!rows) return rows.error();
    auto found = index_entries_from_rows(*rows);
    if (!found) return found.error();
    std::unordered_map<std::int64_t, const IndexEntry*> by_id;
    for (const auto& entry : *found) by_id[entry.image_id] = &entry;
    std::vector<IndexEntry> entries;  // in the order given
    entries.reserve(found->size());
    for (auto id : image_ids) {
      if (auto it = by_id.find(id); it != by_id.end()) entries.push_back(*it->second);
    }
    return entries;
  });
}

Result<std::vector<IndexEntry>> PostgresCatalog::scan_index_entries(const std::string& fingerprint,
                                                                    std::int64_t after_image_id,
                                                                    std::int64_t limit) const {
  if (auto s = check_page(0, limit); !s) return s.error();
  return with_connection(*pool_, [&](PgConnection& c) -> Result<std::vector<IndexEntry>> {
    auto rows = c.exec(sql({"SELECT ", kIndexEntryColumns, kIndexEntrySource,
                            "WHERE i.id > $2::bigint ORDER BY i.id LIMIT $3::bigint"}),
                       PgParams().text(fingerprint).int64(after_image_id).int64(limit));
    if (!rows) return rows.error();
    return index_entries_from_rows(*rows);
  });
}

Result<std::int64_t> PostgresCatalog::index_applied_seq(const std::string& index_name) const {
  return with_connection(*pool_, [&](PgConnection& c) -> Result<std::int64_t> {
    auto rows =
        c.exec("SELECT applied_seq FROM index_state WHERE name = $1", PgParams().text(index_name));
    if (!rows) return rows.error();
    return rows->rows() > 0 ? rows->int64(0, 0) : 0;
  });
}

Status PostgresCatalog::set_index_applied_seq(const std::string& index_name, std::int64_t seq) {
  if (index_name.empty() || !is_valid_utf8(index_name)) {
    return make_error(ErrorCode::kInvalidArgument, "index name must be non-empty UTF-8 text");
  }
  if (seq < 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "applied seq must not be negative, got " + std::to_string(seq));
  }
  return with_connection(*pool_, [&](PgConnection& c) -> Status {
    return c.exec_command(
        "INSERT INTO index_state (name, applied_seq) VALUES ($1, $2::bigint)"
        " ON CONFLICT (name) DO UPDATE SET applied_seq = EXCLUDED.applied_seq",
        PgParams().text(index_name).int64(seq));
  });
}

Result<CatalogStats> PostgresCatalog::stats() const {
  return with_connection(*pool_, [&](PgConnection& c) -> Result<CatalogStats> {
    auto rows = c.exec(
        "SELECT (SELECT count(*) FROM products), (SELECT count(*) FROM product_images),"
        " (SELECT count(DISTINCT sha256) FROM product_images), (SELECT count(*) FROM embeddings),"
        " (SELECT COALESCE(MAX(seq), 0) FROM index_changes)");
    if (!rows) return rows.error();
    CatalogStats stats;
    stats.products = rows->int64(0, 0);
    stats.images = rows->int64(0, 1);
    stats.distinct_images = rows->int64(0, 2);
    stats.embeddings = rows->int64(0, 3);
    stats.last_change_seq = rows->int64(0, 4);
    return stats;
  });
}

}  // namespace lookalike::catalog
