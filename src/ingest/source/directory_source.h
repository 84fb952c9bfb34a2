// The seed's layout: SOURCE/{product_id}/image_*.{jpg,jpeg,png,webp} → one product per
// sub-directory, external_id = prefix + product_id, images in natural order (image_2 < image_10).
// Thread-safety: see ProductSource.
#pragma once

#include <filesystem>
#include <string>

#include "ingest/source/product_source.h"

namespace lookalike::ingest {

class DirectorySource : public ProductSource {
 public:
  DirectorySource(std::filesystem::path root, std::string id_prefix);
  std::string description() const override;
  Status scan(const SourceVisitor& visitor) override;

 private:
  std::filesystem::path root_;
  std::string id_prefix_;
};

// True for names of the form image_*.{jpg,jpeg,png,webp} (case-insensitive extension).
bool is_image_file_name(const std::string& name);
// Natural order: runs of digits compare by value ("image_2" < "image_10").
bool natural_less(const std::string& a, const std::string& b);

}  // namespace lookalike::ingest
