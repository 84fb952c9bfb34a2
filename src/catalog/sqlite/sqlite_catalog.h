// SqliteCatalog: the embedded Catalog backend, one SQLite file in WAL mode (synchronous=NORMAL,
// foreign keys on), with versioned schema migrations recorded in schema_migrations.
// Thread-safety: one connection guarded by a mutex; every method may be called from any thread,
// calls are serialised. Other processes may open the same file (busy_timeout waits for them).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/sqlite/sqlite_statement.h"

namespace lookalike::catalog {

// The schema version this build writes; a file with a newer version is refused.
inline constexpr std::int64_t kSqliteSchemaVersion = 1;

class SqliteCatalog final : public Catalog {
 public:
  // Opens `file` (creating it and its parent directories) and migrates its schema.
  // kCorruptData if the file is not a SQLite database, kFailedPrecondition if its schema is newer
  // than this build, kIoError if it cannot be opened.
  static Result<std::unique_ptr<SqliteCatalog>> open(const std::filesystem::path& file);

  std::string backend_name() const override { return "sqlite"; }

  Result<Product> get_product(std::int64_t id) const override;
  Result<Product> get_product_by_external_id(const std::string& external_id) const override;
  Result<std::vector<Product>> get_products(std::span<const std::int64_t> ids) const override;
  Result<ProductPage> list_products(std::int64_t offset, std::int64_t limit,
                                    const std::string& category) const override;
  Result<Product> create_product(const Product& product) override;
  Result<Product> update_product(const Product& product) override;
  Result<std::vector<ProductImage>> delete_product(std::int64_t id) override;

  Result<std::vector<ProductImage>> list_images(std::int64_t product_id) const override;
  Result<ProductImage> get_image(std::int64_t image_id) const override;
  Result<std::optional<ProductImage>> find_image_by_sha256(
      const std::string& sha256) const override;
  Result<ProductImage> add_image(std::int64_t product_id, const ProductImage& image,
                                 const std::optional<Embedding>& embedding) override;
  Status delete_image(std::int64_t image_id) override;
  Result<std::int64_t> count_images_with_path(const std::string& path) const override;

  Result<std::vector<Product>> write_products(std::span<const ProductWrite> writes) override;

  Result<bool> has_embedding(const std::string& sha256,
                             const std::string& fingerprint) const override;
  Result<std::optional<Embedding>> get_embedding(const std::string& sha256,
                                                 const std::string& fingerprint) const override;
  Status put_embeddings(std::span<const Embedding> embeddings) override;
  Result<std::vector<ProductImage>> images_missing_embedding(const std::string& fingerprint,
                                                             const std::string& after_sha256,
                                                             std::int64_t limit) const override;
  Result<std::int64_t> delete_other_embeddings(const std::string& keep_fingerprint) override;

  Result<std::vector<IndexChange>> changes_since(std::int64_t seq,
                                                 std::int64_t limit) const override;
  Result<std::int64_t> last_change_seq() const override;
  Result<std::vector<IndexEntry>> index_entries(std::span<const std::int64_t> image_ids,
                                                const std::string& fingerprint) const override;
  Result<std::vector<IndexEntry>> scan_index_entries(const std::string& fingerprint,
                                                     std::int64_t after_image_id,
                                                     std::int64_t limit) const override;
  Result<std::int64_t> index_applied_seq(const std::string& index_name) const override;
  Status set_index_applied_seq(const std::string& index_name, std::int64_t seq) override;

  Result<CatalogStats> stats() const override;

 private:
  explicit SqliteCatalog(std::unique_ptr<SqliteConnection> connection)
      : connection_(std::move(connection)) {}

  Status configure();
  Status migrate();

  // Helpers that run with mutex_ held (and, for writes, inside a transaction).
  Result<std::optional<Product>> find_product_locked(std::int64_t id) const;
  Result<std::optional<Product>> find_product_by_external_id_locked(
      const std::string& external_id) const;
  Result<std::vector<ProductImage>> list_images_locked(std::int64_t product_id) const;
  Result<std::optional<ProductImage>> find_image_locked(std::int64_t image_id) const;
  Status log_change_locked(std::int64_t image_id, IndexChange::Kind kind);
  Status collect_images_with_sha256_locked(const std::string& sha256,
                                           std::set<std::int64_t>& ids) const;
  // Deletes first, then upserts (skipping ids that were deleted), each in ascending id order.
  Status log_changes_locked(const std::set<std::int64_t>& deletes,
                            const std::set<std::int64_t>& upserts);
  Status put_embedding_locked(const Embedding& embedding, const std::string& now);
  Result<std::int64_t> insert_image_locked(std::int64_t product_id, int position,
                                           const ProductImage& image, const std::string& now);
  Result<std::vector<IndexEntry>> read_index_entries_locked(SqliteStatement& stmt) const;

  mutable std::mutex mutex_;
  std::unique_ptr<SqliteConnection> connection_;  // used only with mutex_ held
};

// Opens (creating if needed) the SQLite catalogue at `file`; see SqliteCatalog::open.
Result<std::unique_ptr<Catalog>> open_sqlite_catalog(const std::filesystem::path& file);

}  // namespace lookalike::catalog
