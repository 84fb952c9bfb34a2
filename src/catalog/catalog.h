// Catalog: the source of truth for products, their images and embeddings. Two backends implement
// it (SQLite embedded, PostgreSQL in production); the same contract test suite runs on both.
// Vector indexes are derived from it through the change log (changes_since / index_entries).
//
// Thread-safety: every method may be called from any thread concurrently; backends serialise or
// pool connections internally. Errors: kNotFound for unknown ids, kInvalidArgument for fields that
// break the schema's limits, kAlreadyExists for a duplicate external_id on create, kIoError /
// kNetwork when the store fails.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "catalog/product.h"
#include "core/result.h"

namespace lookalike::catalog {

class Catalog {
 public:
  virtual ~Catalog() = default;

  // "sqlite" or "postgresql"
  virtual std::string backend_name() const = 0;

  // --- products -------------------------------------------------------------------------------
  virtual Result<Product> get_product(std::int64_t id) const = 0;
  virtual Result<Product> get_product_by_external_id(const std::string& external_id) const = 0;
  // Products with these ids, in the order given; unknown ids are skipped.
  virtual Result<std::vector<Product>> get_products(std::span<const std::int64_t> ids) const = 0;
  // Ordered by id; `category` empty means all.
  virtual Result<ProductPage> list_products(std::int64_t offset, std::int64_t limit,
                                            const std::string& category) const = 0;
  // Inserts a product (kAlreadyExists if its external_id is taken); returns it as stored.
  virtual Result<Product> create_product(const Product& product) = 0;
  // Replaces the editable fields of product `product.id`; logs upserts for its images (their
  // payload may have changed). Returns it as stored.
  virtual Result<Product> update_product(const Product& product) = 0;
  // Deletes the product and its images (embeddings stay: other images may share them); logs
  // deletes for its images. Returns the deleted images so the caller can remove their files.
  virtual Result<std::vector<ProductImage>> delete_product(std::int64_t id) = 0;

  // --- images ---------------------------------------------------------------------------------
  virtual Result<std::vector<ProductImage>> list_images(std::int64_t product_id) const = 0;
  virtual Result<ProductImage> get_image(std::int64_t image_id) const = 0;
  // Any stored image with these bytes (for storing and embedding duplicates once).
  virtual Result<std::optional<ProductImage>> find_image_by_sha256(
      const std::string& sha256) const = 0;
  // Adds one image (position = next free) with an optional new embedding, in one transaction.
  virtual Result<ProductImage> add_image(std::int64_t product_id, const ProductImage& image,
                                         const std::optional<Embedding>& embedding) = 0;
  virtual Status delete_image(std::int64_t image_id) = 0;
  // Number of images (any product) whose stored path is `path` (files are shared by duplicates).
  virtual Result<std::int64_t> count_images_with_path(const std::string& path) const = 0;

  // --- ingestion ------------------------------------------------------------------------------
  // Creates or updates each product (matched on external_id) with its complete image list and new
  // embeddings, all in ONE transaction: after a crash either all of `writes` are stored or none.
  // Returns the stored products in the same order.
  virtual Result<std::vector<Product>> write_products(std::span<const ProductWrite> writes) = 0;

  // --- embeddings -----------------------------------------------------------------------------
  virtual Result<bool> has_embedding(const std::string& sha256,
                                     const std::string& fingerprint) const = 0;
  virtual Result<std::optional<Embedding>> get_embedding(const std::string& sha256,
                                                         const std::string& fingerprint) const = 0;
  // Stores embeddings (replacing same sha256+fingerprint) and logs upserts for every image that
  // has those bytes.
  virtual Status put_embeddings(std::span<const Embedding> embeddings) = 0;
  // Distinct sha256 of images without an embedding for `fingerprint`, with one image of each
  // (for re-embedding); sha256 > after_sha256, ascending, at most `limit`.
  virtual Result<std::vector<ProductImage>> images_missing_embedding(
      const std::string& fingerprint, const std::string& after_sha256,
      std::int64_t limit) const = 0;
  // Deletes every embedding whose fingerprint is not `keep_fingerprint`; returns how many.
  virtual Result<std::int64_t> delete_other_embeddings(const std::string& keep_fingerprint) = 0;

  // --- what vector indexes are built from -----------------------------------------------------
  virtual Result<std::vector<IndexChange>> changes_since(std::int64_t seq,
                                                         std::int64_t limit) const = 0;
  virtual Result<std::int64_t> last_change_seq() const = 0;
  // Entries for these images under `fingerprint`; images without such an embedding (or deleted)
  // are left out.
  virtual Result<std::vector<IndexEntry>> index_entries(std::span<const std::int64_t> image_ids,
                                                        const std::string& fingerprint) const = 0;
  // All entries with image_id > after_image_id, ascending, at most `limit` (for rebuilds).
  virtual Result<std::vector<IndexEntry>> scan_index_entries(const std::string& fingerprint,
                                                             std::int64_t after_image_id,
                                                             std::int64_t limit) const = 0;
  // Persisted progress of an external index (Qdrant): the last change seq it has applied.
  virtual Result<std::int64_t> index_applied_seq(const std::string& index_name) const = 0;
  virtual Status set_index_applied_seq(const std::string& index_name, std::int64_t seq) = 0;

  virtual Result<CatalogStats> stats() const = 0;
};

// Opens the catalogue named by `database_url`: empty → SQLite at DATA_DIR/catalog.sqlite3,
// "sqlite:///abs/path.db", or "postgresql://user:pass@host:port/db" (also "postgres://").
// Creates or migrates the schema.
Result<std::unique_ptr<Catalog>> open_catalog(const std::string& database_url,
                                              const std::string& data_dir);

}  // namespace lookalike::catalog
