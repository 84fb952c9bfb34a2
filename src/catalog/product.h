// The catalogue's records: a product (the seed's `products` row), its images, and what is written
// for them in one ingestion transaction. Plain values; no backend type appears here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lookalike::catalog {

// Prices are DECIMAL(10,2) in the seed's schema: kept as integer cents so that no binary
// floating-point rounding ever changes a price. |price_cents| < 10^10 (ten digits in all).
inline constexpr std::int64_t kMaxPriceCents = 9'999'999'999;

struct Product {
  std::int64_t id = 0;      // catalogue id (SERIAL); 0 until stored
  std::string external_id;  // unique, at most 255 bytes
  std::string title;        // not empty, at most 500 bytes
  std::string description;
  std::string category;  // at most 100 bytes; empty means none (NULL)
  std::optional<std::int64_t> price_cents;
  std::string currency;   // at most 10 bytes
  std::string image_url;  // URL of the first image ("/images/<dir>/image_1.jpg")
  nlohmann::json metadata = nlohmann::json::object();  // product_metadata (a JSON object)
  std::string created_at;  // ISO 8601 UTC ("2026-11-24T10:00:00Z"); set by the catalogue
  std::string updated_at;
};

struct ProductImage {
  std::int64_t id = 0;  // catalogue id; also the vector index's point id
  std::int64_t product_id = 0;
  int position = 0;    // N in image_N.<ext>, from 1
  std::string path;    // relative to DATA/images: "<product dir>/image_N.jpg"
  std::string url;     // "/images/<product dir>/image_N.jpg"
  std::string source;  // where it came from: a file path, http(s) URL or s3://bucket/key
  std::string sha256;  // lowercase hex of the stored bytes
  std::int64_t size_bytes = 0;
  int width = 0;
  int height = 0;
  std::string format;  // "jpeg", "png", "webp", ...
  std::string etag;    // the source's ETag (S3/HTTP), empty if none
  std::string created_at;
};

// A vector for one image content (sha256) under one model fingerprint. Images with the same bytes
// share one embedding: they are embedded once.
struct Embedding {
  std::string sha256;
  std::string fingerprint;  // model id + preprocessing hash; vectors of different models never mix
  std::vector<float> vector;
};

// One product with all of its images, written in one transaction by Catalog::write_products.
struct ProductWrite {
  Product product;  // matched on external_id; id/created_at/updated_at are ignored
  // The product's complete image list after the write; images of the product that are not in it
  // (matched on `position`) are deleted. `id`, `product_id` and `created_at` are ignored.
  std::vector<ProductImage> images;
  // New embeddings to store with the images (others may already be in the catalogue).
  std::vector<Embedding> embeddings;
};

struct ProductPage {
  std::vector<Product> items;
  std::int64_t total = 0;  // products matching the filter, ignoring offset/limit
};

struct CatalogStats {
  std::int64_t products = 0;
  std::int64_t images = 0;
  std::int64_t distinct_images = 0;  // distinct sha256
  std::int64_t embeddings = 0;       // all fingerprints
  std::int64_t last_change_seq = 0;
};

// One entry of the change log the vector indexes replay (the outbox pattern): every write that
// changes what an index must hold appends entries in the same transaction as the change itself.
struct IndexChange {
  enum class Kind { kUpsert, kDelete };
  std::int64_t seq = 0;  // strictly increasing
  std::int64_t image_id = 0;
  Kind kind = Kind::kUpsert;
};

// What a vector index stores for one image: the vector plus the payload filters need.
struct IndexEntry {
  std::int64_t image_id = 0;
  std::int64_t product_id = 0;
  std::string external_id;
  std::string category;
  std::optional<std::int64_t> price_cents;
  std::string currency;
  std::vector<float> vector;
};

}  // namespace lookalike::catalog
