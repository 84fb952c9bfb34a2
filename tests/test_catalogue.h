// Synthetic product catalogues for ingestion and search tests: distinct random pictures written in
// the seed's directory layout, plus the same catalogue as CSV and JSON Lines manifests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lookalike::testing {

struct TestProduct {
  std::string id;  // directory name / external id without prefix
  std::string title;
  std::string category;
  std::int64_t price_cents = 0;
  std::vector<std::filesystem::path> images;  // absolute paths of image_N.jpg
};

struct TestCatalogue {
  std::filesystem::path root;  // root/{id}/image_N.jpg
  std::vector<TestProduct> products;
};

// `products` products with 1..max_images JPEGs each (sizes 64..256 px), categories
// "cat0".."cat9" and prices 1.00..500.00, all deterministic in `seed`.
TestCatalogue make_test_catalogue(const std::filesystem::path& root, int products, int max_images,
                                  std::uint32_t seed);

// Writes the catalogue as a manifest with images referenced relative to the manifest's directory.
void write_csv_manifest(const TestCatalogue& catalogue, const std::filesystem::path& file);
void write_jsonl_manifest(const TestCatalogue& catalogue, const std::filesystem::path& file);

// A query photo made from a product photo: rescaled by `scale` and recompressed as JPEG `quality`.
std::string rescaled_jpeg(const std::filesystem::path& image, double scale, int quality);

}  // namespace lookalike::testing
