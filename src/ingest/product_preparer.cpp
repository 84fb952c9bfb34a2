#include "ingest/product_preparer.h"

#include <map>
#include <set>

#include "catalog/catalog_validation.h"
#include "core/sha256.h"

namespace lookalike::ingest {

namespace {

enum class Outcome { kOk, kFailed, kDuplicate };

std::string sha256_hex(std::string_view bytes) {
  Sha256 hash;
  hash.update(bytes);
  return hash.hex_digest();
}

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

bool same_product_fields(const catalog::Product& stored, const SourceProduct& source) {
  return stored.title == source.title && stored.description == source.description &&
         stored.category == source.category && stored.price_cents == source.price_cents &&
         stored.currency == source.currency && stored.metadata == source.metadata;
}

bool same_row(const catalog::ProductImage& a, const catalog::ProductImage& b) {
  return a.position == b.position && a.sha256 == b.sha256 && a.path == b.path &&
         a.source == b.source && a.etag == b.etag;
}

}  // namespace

ProductPreparer::ProductPreparer(const catalog::Catalog& catalog, const ImageStore& store,
                                 SourceFetcher& fetcher, SlotRegistry& slots,
                                 const image::ClipPreprocessor& preprocessor,
                                 image::DecodeLimits limits, std::string fingerprint,
                                 IngestReport& report)
    : catalog_(catalog),
      store_(store),
      fetcher_(fetcher),
      slots_(slots),
      preprocessor_(preprocessor),
      limits_(limits),
      fingerprint_(std::move(fingerprint)),
      report_(report) {}

ProductJob ProductPreparer::prepare(SourceProduct source) {
  ProductJob job;
  job.source = std::move(source);
  const std::string& external_id = job.source.external_id;
  std::map<int, catalog::ProductImage> stored;
  // Fields the catalogue would refuse fail the product before anything is downloaded.
  catalog::Product fields;
  fields.external_id = external_id;
  fields.title = job.source.title;
  fields.description = job.source.description;
  fields.category = job.source.category;
  fields.price_cents = job.source.price_cents;
  fields.currency = job.source.currency;
  fields.metadata = job.source.metadata;
  fields.image_url = "/images/";
  if (auto status = catalog::validate_product(fields); !status) {
    report_.add("failed", job.source.location, external_id, status.error().to_string());
    job.images_failed = static_cast<std::int64_t>(job.source.images.size());
    return job;
  }
  auto existing = catalog_.get_product_by_external_id(external_id);
  if (existing) {
    job.existing = std::move(*existing);
    auto images = catalog_.list_images(job.existing->id);
    if (!images) {
      report_.add("failed", job.source.location, external_id, images.error().to_string());
      job.images_failed = static_cast<std::int64_t>(job.source.images.size());
      return job;
    }
    for (auto& image : *images) stored[image.position] = std::move(image);
  } else if (existing.error().code != ErrorCode::kNotFound) {
    report_.add("failed", job.source.location, external_id, existing.error().to_string());
    job.images_failed = static_cast<std::int64_t>(job.source.images.size());
    return job;
  }

  std::set<std::string> seen;
  for (std::size_t i = 0; i < job.source.images.size(); ++i) {
    int position = static_cast<int>(i) + 1;
    auto it = stored.find(position);
    const catalog::ProductImage* stored_image = it == stored.end() ? nullptr : &it->second;
    const SourceImage& image = job.source.images[i];
    PreparedImage out;
    Outcome outcome = Outcome::kFailed;
    auto status = prepare_image(external_id, image, position, stored_image, seen, out);
    if (status) {
      outcome = Outcome::kOk;
    } else if (status.error().code == ErrorCode::kAlreadyExists) {
      outcome = Outcome::kDuplicate;
    } else if (status.error().code == ErrorCode::kNetwork && stored_image != nullptr) {
      // A transient failure must not lose what an earlier run stored: keep it as it was.
      report_.add("failed", image.reference, external_id,
                  status.error().to_string() + " (kept the previously stored image)");
      out = PreparedImage{*stored_image, nullptr, false};
      outcome = seen.insert(out.row.sha256).second ? Outcome::kOk : Outcome::kDuplicate;
    } else {
      report_.add("failed", image.reference, external_id, status.error().to_string());
    }
    if (outcome == Outcome::kOk) {
      job.images.push_back(std::move(out));
    } else if (outcome == Outcome::kDuplicate) {
      report_.add("duplicate", image.reference, external_id,
                  "same bytes as an earlier image of this product; stored once");
      report_.update([](IngestCounters& c) { ++c.images_duplicate; });
    } else {
      ++job.images_failed;
    }
  }

  std::set<std::string> kept_paths;
  for (const auto& image : job.images) kept_paths.insert(image.row.path);
  for (const auto& [position, image] : stored) {
    if (!kept_paths.contains(image.path)) job.obsolete_paths.push_back(image.path);
  }
  if (job.existing && same_product_fields(*job.existing, job.source) &&
      job.images.size() == stored.size()) {
    job.unchanged = true;
    for (const auto& image : job.images) {
      auto it = stored.find(image.row.position);
      if (image.slot || it == stored.end() || !same_row(image.row, it->second)) {
        job.unchanged = false;
        break;
      }
    }
  }
  if (job.failed()) {
    report_.add("failed", job.source.location, external_id, "no usable image");
  }
  return job;
}

Status ProductPreparer::prepare_image(const std::string& external_id, const SourceImage& source,
                                      int position, const catalog::ProductImage* stored,
                                      std::set<std::string>& seen, PreparedImage& out) {
  auto duplicate = [&](const std::string& sha256) { return !seen.insert(sha256).second; };
  auto intact = [&](const catalog::ProductImage& image) {
    auto has = catalog_.has_embedding(image.sha256, fingerprint_);
    return store_.file_size(image.path) == image.size_bytes && has && *has;
  };
  // The listing's ETag says the object is unchanged: no download at all.
  if (stored != nullptr && !source.etag.empty() && stored->source == source.reference &&
      stored->etag == source.etag && intact(*stored)) {
    if (duplicate(stored->sha256)) return make_error(ErrorCode::kAlreadyExists, "duplicate");
    out.row = *stored;
    report_.update([](IngestCounters& c) { ++c.images_skipped; });
    return ok_status();
  }
  auto fetched = fetcher_.fetch(source.reference, limits_.max_bytes);
  if (!fetched) return fetched.error();
  const std::string& bytes = fetched->bytes;
  report_.update(
      [&](IngestCounters& c) { c.bytes_downloaded += static_cast<std::int64_t>(bytes.size()); });

  catalog::ProductImage row;
  row.position = position;
  row.source = source.reference;
  row.sha256 = sha256_hex(bytes);
  row.size_bytes = static_cast<std::int64_t>(bytes.size());
  row.etag = fetched->etag.empty() ? source.etag : fetched->etag;
  if (duplicate(row.sha256)) return make_error(ErrorCode::kAlreadyExists, "duplicate");

  if (stored != nullptr && stored->sha256 == row.sha256 && intact(*stored)) {
    out.row = *stored;
    out.row.source = row.source;
    out.row.etag = row.etag;
    report_.update([](IngestCounters& c) { ++c.images_skipped; });
    return ok_status();
  }

  auto [slot, owner] = slots_.acquire(row.sha256);
  if (owner) {
    fill_slot(*slot, bytes, external_id, position);
    slots_.publish(slot);
  } else {
    slots_.wait_published(slot);
  }
  if (slot->error) return *slot->error;
  std::string path = ImageStore::relative_path(external_id, position, slot->format);
  if (slot->stored_path != path) {
    if (auto status = store_.link(slot->stored_path, path); !status) return status;
    report_.add("duplicate", source.reference, external_id,
                "same bytes as images/" + slot->stored_path + ": stored and embedded once");
    report_.update([](IngestCounters& c) { ++c.images_duplicate; });
  } else {
    report_.update([](IngestCounters& c) { ++c.images_stored; });
  }
  row.path = path;
  row.url = ImageStore::url_for(path);
  row.format = slot->format;
  row.width = slot->width;
  row.height = slot->height;
  out.row = std::move(row);
  out.owner = owner;
  if (!slot->in_catalog) out.slot = slot;
  return ok_status();
}

void ProductPreparer::fill_slot(EmbeddingSlot& slot, const std::string& bytes,
                                const std::string& external_id, int position) {
  auto has_vector = catalog_.has_embedding(slot.sha256, fingerprint_);
  if (!has_vector) {
    slot.error = has_vector.error();
    return;
  }
  slot.in_catalog = *has_vector;
  slot.embedded = *has_vector;
  // Another product (or an earlier run) may already store these bytes: share its file.
  auto other = catalog_.find_image_by_sha256(slot.sha256);
  if (other && *other && store_.file_size((*other)->path) == (*other)->size_bytes) {
    slot.stored_path = (*other)->path;
    slot.format = (*other)->format;
    slot.width = (*other)->width;
    slot.height = (*other)->height;
    if (slot.in_catalog) return;  // validated when it was first stored; nothing to compute
  }
  auto info = image::probe_image(as_bytes(bytes));
  if (!info) {
    slot.error = info.error();
    return;
  }
  auto decoded = image::decode_image(as_bytes(bytes), limits_);
  if (!decoded) {
    slot.error = decoded.error();
    return;
  }
  if (slot.stored_path.empty()) {
    std::string path = ImageStore::relative_path(external_id, position, info->format);
    if (auto status = store_.write(path, bytes); !status) {
      slot.error = status.error();
      return;
    }
    slot.stored_path = path;
    slot.format = info->format;
    slot.width = decoded->width;
    slot.height = decoded->height;
  }
  if (!slot.in_catalog) slot.tensor = preprocessor_.preprocess(*decoded);
}

}  // namespace lookalike::ingest
