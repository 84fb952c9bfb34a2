// VectorIndex: cosine top-K over image embeddings with payload filters, derived from the catalogue.
// Backends: "embedded" (hnswlib, persisted under DATA/index; exact scan for small or selective
// queries, HNSW past a size threshold) and "qdrant" (Qdrant's REST API).
//
// Points are images: id = catalogue image id. Vectors are L2-normalised by the caller, so inner
// product = cosine. Filters are evaluated inside the search (never by dropping results afterwards).
//
// Thread-safety: search() may run concurrently with itself and with writes; writes are serialised
// internally.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"

namespace lookalike::index {

struct PointPayload {
  std::int64_t product_id = 0;
  std::string external_id;
  std::string category;  // empty: none
  std::optional<std::int64_t> price_cents;
  std::string currency;
};

struct Point {
  std::int64_t id = 0;  // catalogue image id, > 0
  std::vector<float> vector;
  PointPayload payload;
};

struct SearchFilter {
  std::string category;                         // exact match; empty: any
  std::optional<std::int64_t> min_price_cents;  // inclusive; a point without a price never matches
  std::optional<std::int64_t> max_price_cents;  // inclusive
  bool empty() const { return category.empty() && !min_price_cents && !max_price_cents; }
};

struct SearchQuery {
  std::span<const float> vector;         // dimension() floats, L2-normalised
  int limit = 20;                        // results wanted (after grouping)
  std::optional<float> score_threshold;  // keep hits with score >= threshold
  SearchFilter filter;
  // One hit per product (its best image): the top `limit` products instead of images.
  bool group_by_product = false;
  // Force an exact scan (tests and recall measurements); otherwise the backend decides.
  bool exact = false;
};

struct SearchHit {
  std::int64_t id = 0;  // image id
  std::int64_t product_id = 0;
  float score = 0;  // cosine similarity, best first
};

struct IndexInfo {
  std::string backend;  // "embedded" / "qdrant"
  std::int64_t points = 0;
  int dimension = 0;
  std::string fingerprint;       // model fingerprint of the vectors it holds
  std::int64_t applied_seq = 0;  // last catalogue change applied
  std::string kind;              // "exact" / "hnsw" (embedded), "qdrant"
  // Something the operator should know about how the index was opened, e.g. "stored index was
  // built with another model fingerprint: started empty"; empty normally.
  std::string note;
};

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;

  virtual int dimension() const = 0;
  virtual std::string fingerprint() const = 0;

  // Inserts or replaces points (same id: vector and payload replaced).
  virtual Status upsert(std::span<const Point> points) = 0;
  // Removes points; unknown ids are ignored.
  virtual Status remove(std::span<const std::int64_t> ids) = 0;
  // Removes every point.
  virtual Status clear() = 0;

  virtual Result<std::vector<SearchHit>> search(const SearchQuery& query) const = 0;

  // The catalogue change seq this index reflects, and recording it once changes are applied.
  // The embedded backend persists it with the index; Qdrant's is kept in the catalogue.
  virtual std::int64_t applied_seq() const = 0;
  virtual Status set_applied_seq(std::int64_t seq) = 0;

  // Makes everything durable (embedded: writes a new generation; Qdrant: no-op).
  virtual Status flush() = 0;

  virtual Result<IndexInfo> info() const = 0;
};

}  // namespace lookalike::index
