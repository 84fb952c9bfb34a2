// QdrantIndex: the VectorIndex backend on a Qdrant collection, through Qdrant's REST API. Points
// are images (point id = image id) with the payload external_id, original_id, product_id, category,
// price (currency units), price_cents, currency and the model fingerprint; category, price_cents
// and product_id get payload indexes. applied_seq lives in memory only (the catalogue keeps it).
// Thread-safety: search()/info() run concurrently (QdrantRest pools HTTP clients); writes are
// serialised by a mutex.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "core/http_client.h"
#include "index/index_factory.h"
#include "index/qdrant/qdrant_rest.h"
#include "index/vector_index.h"

namespace lookalike::index {

// Transport settings that IndexOptions does not carry (tests shorten the backoff).
struct QdrantTuning {
  RetryPolicy retry;
  long timeout_s = 60;
  std::size_t batch_size = 256;  // points per upsert request, ids per delete request
};

class QdrantIndex : public VectorIndex {
 public:
  // Connects to options.qdrant_url and checks options.collection: created (Cosine, the
  // dimension, payload indexes) when missing; kFailedPrecondition when it exists with another
  // vector size or distance. Vectors of another model (payload fingerprint) are not an error:
  // fingerprint() and info() then report the fingerprint the collection holds.
  static Result<std::unique_ptr<QdrantIndex>> open(const IndexOptions& options,
                                                   const QdrantTuning& tuning);

  int dimension() const override { return options_.dimension; }
  // The fingerprint of the vectors the collection holds: options.fingerprint unless it held
  // another model's vectors when opened (empty: unknown), until clear().
  std::string fingerprint() const override;

  Status upsert(std::span<const Point> points) override;
  Status remove(std::span<const std::int64_t> ids) override;
  Status clear() override;  // drops and recreates the collection

  Result<std::vector<SearchHit>> search(const SearchQuery& query) const override;

  std::int64_t applied_seq() const override { return applied_seq_.load(); }
  Status set_applied_seq(std::int64_t seq) override;
  Status flush() override { return ok_status(); }  // Qdrant applies writes with wait=true

  Result<IndexInfo> info() const override;

 private:
  QdrantIndex(const IndexOptions& options, const QdrantTuning& tuning);

  Status ensure_collection();
  Status create_collection();
  Status ensure_payload_indexes(const nlohmann::json& payload_schema);
  Status read_held_fingerprint();
  std::string collection_path() const { return "/collections/" + options_.collection; }

  IndexOptions options_;
  QdrantTuning tuning_;
  QdrantRest rest_;
  std::mutex write_mutex_;
  mutable std::mutex fingerprint_mutex_;
  std::string held_fingerprint_;
  std::atomic<std::int64_t> applied_seq_{0};
};

Result<std::unique_ptr<VectorIndex>> open_qdrant_index(const IndexOptions& options);
Result<std::unique_ptr<VectorIndex>> open_qdrant_index(const IndexOptions& options,
                                                       const QdrantTuning& tuning);

}  // namespace lookalike::index
