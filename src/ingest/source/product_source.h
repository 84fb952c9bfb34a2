// ProductSource: enumerates the products of an ingestion source (a directory in the seed's layout,
// a CSV or JSON Lines manifest, an S3 prefix) as a stream, so 200K products never sit in memory.
// Thread-safety: scan() runs on one thread at a time.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "ingest/source/source_product.h"

namespace lookalike::ingest {

struct SourceVisitor {
  std::function<bool(SourceProduct)> on_product;  // false stops the scan
  std::function<void(SourceProblem)> on_problem;
};

class ProductSource {
 public:
  virtual ~ProductSource() = default;
  virtual std::string description() const = 0;  // "directory /data/photos", "s3://b/p", ...
  // Calls the visitor for every product or problem. Errors: the source as a whole is unusable
  // (unreadable manifest, bucket missing, listing failed after retries).
  virtual Status scan(const SourceVisitor& visitor) = 0;
};

}  // namespace lookalike::ingest
