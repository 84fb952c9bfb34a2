// PostgresCatalog: the production Catalog backend on PostgreSQL (the seed's `products` schema plus
// images, embeddings and the index change log), with versioned migrations in schema_migrations
// applied under an advisory lock so that processes starting together do not race.
// Thread-safety: every method may be called from any thread; queries run on a small pool of
// connections (a broken connection is dropped and replaced). Change-log inserts are serialised by
// a transaction-scoped advisory lock so that change seqs become visible in increasing order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "catalog/catalog.h"

namespace lookalike::catalog {

class PgPool;

// The schema version this build writes; a database with a newer version is refused.
inline constexpr int kPostgresSchemaVersion = 1;

class PostgresCatalog final : public Catalog {
 public:
  // Connects to `url` ("postgresql://user:pass@host:port/db" or "postgres://...") and creates or
  // migrates the schema. kInvalidArgument for another scheme, kNetwork if the server cannot be
  // reached, kFailedPrecondition if the schema is newer than this build.
  static Result<std::unique_ptr<PostgresCatalog>> open(const std::string& url,
                                                       std::size_t max_connections = 8);
  ~PostgresCatalog() override;
  PostgresCatalog(const PostgresCatalog&) = delete;
  PostgresCatalog& operator=(const PostgresCatalog&) = delete;

  std::string backend_name() const override { return "postgresql"; }

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
  explicit PostgresCatalog(std::unique_ptr<PgPool> pool);

  Status migrate();

  std::unique_ptr<PgPool> pool_;  // thread-safe; owned
};

// Opens the PostgreSQL catalogue at `url`; see PostgresCatalog::open.
Result<std::unique_ptr<Catalog>> open_postgres_catalog(const std::string& url);

}  // namespace lookalike::catalog
