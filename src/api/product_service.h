// ProductService: the product writes of the HTTP API, each complete before it returns: the
// catalogue is written (the source of truth), the vector index has replayed the change, stored
// image files follow, and the event is published to webhooks. Routes stay a thin HTTP layer.
// Thread-safety: all methods may be called concurrently; image changes of one product are
// serialised (positions and file names must not race).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "api/api_services.h"
#include "catalog/product.h"
#include "core/result.h"

namespace lookalike::api {

class ProductService {
 public:
  explicit ProductService(ApiServices& services);

  // `id` is the numeric catalogue id or the external_id. kNotFound otherwise.
  Result<catalog::Product> resolve(const std::string& id) const;

  Result<catalog::Product> create(const catalog::Product& product);
  Result<catalog::Product> update(const catalog::Product& product);
  Status remove(const catalog::Product& product);

  // Validates (full decode within the limits), stores, embeds and indexes one uploaded image.
  // Image errors are the decoder's (kCorruptData, kUnsupported, kResourceExhausted).
  Result<catalog::ProductImage> add_image(const catalog::Product& product,
                                          std::span<const std::uint8_t> bytes);
  Status remove_image(const catalog::Product& product, int position);

 private:
  Status sync_index();
  void publish(const std::string& type, const catalog::Product& product);
  void remove_unshared_file(const std::string& path);
  std::mutex& product_lock(std::int64_t product_id);

  ApiServices& services_;
  std::array<std::mutex, 64> product_locks_;
};

// A PRODUCT with its images (single-product answers).
nlohmann::ordered_json product_with_images_json(const catalog::Product& product,
                                                const std::vector<catalog::ProductImage>& images);

}  // namespace lookalike::api
