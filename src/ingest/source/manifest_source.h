// Manifests: CSV with the header `external_id,title,description,category,price,currency,images`
// (`images` separated by ';'; extra columns go into metadata) or JSON Lines with the same fields
// (`images` a list; a `metadata` object and any extra fields go into metadata). Image references
// are http(s)/s3 URLs or paths relative to the manifest. Bad rows and repeated external ids are
// problems, never fatal. Thread-safety: see ProductSource.
#pragma once

#include <filesystem>
#include <string>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "ingest/source/product_source.h"

namespace lookalike::ingest {

class ManifestSource : public ProductSource {
 public:
  enum class Format { kCsv, kJsonLines };

  ManifestSource(std::filesystem::path file, Format format, std::string id_prefix);
  std::string description() const override;
  Status scan(const SourceVisitor& visitor) override;

  // ".csv" → CSV; ".jsonl", ".ndjson", ".json" → JSON Lines.
  static Result<Format> format_for(const std::filesystem::path& file);

 private:
  Status scan_csv(const SourceVisitor& visitor);
  Status scan_json_lines(const SourceVisitor& visitor);
  // Builds a product from one row's fields (strings or JSON values); problems are returned.
  Result<SourceProduct> build(const nlohmann::json& row, const std::string& location);
  std::string resolve_reference(const std::string& reference) const;

  std::filesystem::path file_;
  Format format_;
  std::string id_prefix_;
  std::unordered_set<std::string> seen_ids_;
};

}  // namespace lookalike::ingest
