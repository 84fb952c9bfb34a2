// The seed's layout in a bucket: s3://bucket/prefix/{product_id}/image_*.{jpg,jpeg,png,webp}.
// Listed page by page (ListObjectsV2 returns keys in order, so a product's keys are contiguous and
// each product is emitted as soon as its last key is seen); ETags and sizes from the listing let a
// re-run skip unchanged objects without downloading them. Thread-safety: see ProductSource.
#pragma once

#include <string>

#include "ingest/s3/s3_client.h"
#include "ingest/source/product_source.h"

namespace lookalike::ingest {

class S3Source : public ProductSource {
 public:
  // `client` is borrowed and must outlive the source.
  S3Source(S3Client& client, S3Uri uri, std::string id_prefix);
  std::string description() const override;
  Status scan(const SourceVisitor& visitor) override;

 private:
  S3Client& client_;
  S3Uri uri_;
  std::string id_prefix_;
};

}  // namespace lookalike::ingest
