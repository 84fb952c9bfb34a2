// Opens the ingestion source named on the command line (or in an API job): a directory in the
// seed's layout, a .csv / .jsonl manifest, or s3://bucket/prefix.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/result.h"
#include "ingest/s3/s3_client.h"
#include "ingest/source/product_source.h"

namespace lookalike::ingest {

struct SourceOptions {
  std::string id_prefix;
  S3Client* s3 = nullptr;  // needed for s3:// sources; borrowed
};

Result<std::unique_ptr<ProductSource>> open_product_source(const std::string& spec,
                                                           const SourceOptions& options);

}  // namespace lookalike::ingest
