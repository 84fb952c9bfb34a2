#include "api/product_service.h"

#include <algorithm>
#include <charconv>

#include "catalog/product_json.h"
#include "core/sha256.h"

namespace lookalike::api {

ProductService::ProductService(ApiServices& services) : services_(services) {}

std::mutex& ProductService::product_lock(std::int64_t product_id) {
  return product_locks_[static_cast<std::size_t>(product_id) % product_locks_.size()];
}

Result<catalog::Product> ProductService::resolve(const std::string& id) const {
  std::int64_t numeric = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), numeric);
  if (ec == std::errc() && end == id.data() + id.size() && numeric > 0) {
    auto product = services_.catalog->get_product(numeric);
    if (product || product.error().code != ErrorCode::kNotFound) return product;
  }
  auto product = services_.catalog->get_product_by_external_id(id);
  if (!product && product.error().code == ErrorCode::kNotFound) {
    return make_error(ErrorCode::kNotFound, "no product with id or external_id \"" + id + "\"");
  }
  return product;
}

Status ProductService::sync_index() {
  auto synced = services_.sync->catch_up();
  if (!synced) return synced.error().with_context("updating the vector index");
  return ok_status();
}

void ProductService::publish(const std::string& type, const catalog::Product& product) {
  if (!services_.publish_event) return;
  if (type == "product.deleted") {
    services_.publish_event(type, {{"id", product.id}, {"external_id", product.external_id}});
  } else {
    services_.publish_event(type, catalog::product_to_json(product));
  }
}

void ProductService::remove_unshared_file(const std::string& path) {
  // Duplicates share one file (hard links per name, but one name may serve several rows).
  auto users = services_.catalog->count_images_with_path(path);
  if (users && *users == 0) (void)services_.images->remove(path);
}

Result<catalog::Product> ProductService::create(const catalog::Product& product) {
  auto created = services_.catalog->create_product(product);
  if (!created) return created;
  publish("product.created", *created);
  return created;
}

Result<catalog::Product> ProductService::update(const catalog::Product& product) {
  auto updated = services_.catalog->update_product(product);
  if (!updated) return updated;
  // The index payload (category, price) of its images may have changed.
  if (auto status = sync_index(); !status) return status.error();
  publish("product.updated", *updated);
  return updated;
}

Status ProductService::remove(const catalog::Product& product) {
  std::lock_guard lock(product_lock(product.id));
  auto images = services_.catalog->delete_product(product.id);
  if (!images) return images.error();
  if (auto status = sync_index(); !status) return status;
  for (const auto& image : *images) remove_unshared_file(image.path);
  publish("product.deleted", product);
  return ok_status();
}

Result<catalog::ProductImage> ProductService::add_image(const catalog::Product& product,
                                                        std::span<const std::uint8_t> bytes) {
  if (bytes.size() > services_.limits.max_bytes) {
    return make_error(ErrorCode::kResourceExhausted, "the image is larger than the upload limit");
  }
  auto info = image::probe_image(bytes);
  if (!info) return info.error();
  std::string_view view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const std::string sha256 = Sha256::of(view);

  // The vector: the catalogue's, when these bytes were embedded before; otherwise a full decode
  // (which also proves the image is whole) and a pass through the model.
  std::optional<catalog::Embedding> embedding;
  auto known = services_.catalog->get_embedding(sha256, services_.fingerprint);
  if (!known) return known.error();
  if (!*known) {
    auto vector = services_.embedder->embed_image(bytes);
    if (!vector) return vector.error();
    embedding = catalog::Embedding{sha256, services_.fingerprint, std::move(*vector)};
  } else if (auto decoded = image::decode_image(bytes, services_.limits); !decoded) {
    return decoded.error();
  }

  std::lock_guard lock(product_lock(product.id));
  auto images = services_.catalog->list_images(product.id);
  if (!images) return images.error();
  int position = 1;
  for (const auto& image : *images) position = std::max(position, image.position + 1);
  catalog::ProductImage row;
  row.path = ingest::ImageStore::relative_path(product.external_id, position, info->format);
  row.url = ingest::ImageStore::url_for(row.path);
  row.source = "upload";
  row.sha256 = sha256;
  row.size_bytes = static_cast<std::int64_t>(bytes.size());
  row.width = info->width;
  row.height = info->height;
  row.format = info->format;
  if (auto status = services_.images->write(row.path, view); !status) return status.error();
  auto added = services_.catalog->add_image(product.id, row, embedding);
  if (!added) {
    (void)services_.images->remove(row.path);
    return added.error();
  }
  if (auto status = sync_index(); !status) return status.error();
  if (auto stored = services_.catalog->get_product(product.id)) publish("product.updated", *stored);
  return added;
}

Status ProductService::remove_image(const catalog::Product& product, int position) {
  std::lock_guard lock(product_lock(product.id));
  auto images = services_.catalog->list_images(product.id);
  if (!images) return images.error();
  auto it = std::find_if(images->begin(), images->end(),
                         [&](const auto& image) { return image.position == position; });
  if (it == images->end()) {
    return make_error(ErrorCode::kNotFound, "product \"" + product.external_id +
                                                "\" has no image at position " +
                                                std::to_string(position));
  }
  if (auto status = services_.catalog->delete_image(it->id); !status) return status;
  if (auto status = sync_index(); !status) return status;
  remove_unshared_file(it->path);
  if (auto stored = services_.catalog->get_product(product.id)) publish("product.updated", *stored);
  return ok_status();
}

nlohmann::ordered_json product_with_images_json(const catalog::Product& product,
                                                const std::vector<catalog::ProductImage>& images) {
  auto json = catalog::product_to_json(product);
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& image : images) list.push_back(catalog::image_to_json(image));
  json["images"] = std::move(list);
  return json;
}

}  // namespace lookalike::api
