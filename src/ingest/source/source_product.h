// What an ingestion source yields: products with the references of their images, before anything
// is downloaded or validated. Plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lookalike::ingest {

struct SourceImage {
  // An absolute local path, an http(s) URL or s3://bucket/key.
  std::string reference;
  // From a listing (S3): lets a re-run skip unchanged images without downloading them.
  std::string etag;
  std::int64_t size = -1;  // from a listing; -1 unknown
};

struct SourceProduct {
  std::string external_id;  // id prefix already applied
  std::string title;        // defaults to the external id
  std::string description;
  std::string category;
  std::optional<std::int64_t> price_cents;
  std::string currency;
  nlohmann::json metadata = nlohmann::json::object();
  std::vector<SourceImage> images;  // in order: image_1, image_2, ...
  std::string location;             // for reports: "catalog.csv:12", "shoes/123/"
};

// A source item that cannot become a product (bad row, bad key); it goes to the report.
struct SourceProblem {
  std::string item;  // "catalog.csv:12", an object key, ...
  std::string external_id;
  std::string reason;
};

}  // namespace lookalike::ingest
