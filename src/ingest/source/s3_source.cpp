#include "ingest/source/s3_source.h"

#include <algorithm>
#include <optional>

#include "ingest/source/directory_source.h"

namespace lookalike::ingest {

S3Source::S3Source(S3Client& client, S3Uri uri, std::string id_prefix)
    : client_(client), uri_(std::move(uri)), id_prefix_(std::move(id_prefix)) {}

std::string S3Source::description() const { return "s3://" + uri_.bucket + "/" + uri_.key; }

Status S3Source::scan(const SourceVisitor& visitor) {
  std::string prefix = uri_.key;
  if (!prefix.empty() && !prefix.ends_with('/')) prefix += '/';
  std::optional<SourceProduct> current;
  std::vector<std::pair<std::string, SourceImage>> images;  // file name, image
  bool stopped = false;

  auto emit = [&]() -> bool {
    if (!current) return true;
    std::sort(images.begin(), images.end(),
              [](const auto& a, const auto& b) { return natural_less(a.first, b.first); });
    for (auto& [name, image] : images) current->images.push_back(std::move(image));
    images.clear();
    bool go_on = visitor.on_product(std::move(*current));
    current.reset();
    return go_on;
  };

  auto on_page = [&](const std::vector<S3ObjectInfo>& page) -> Status {
    for (const auto& object : page) {
      if (stopped) break;
      std::string relative = object.key.substr(std::min(prefix.size(), object.key.size()));
      if (relative.empty() || relative.ends_with('/')) continue;  // "folder" markers
      auto slash = relative.find('/');
      std::string reference = "s3://" + uri_.bucket + "/" + object.key;
      if (slash == std::string::npos || slash == 0 ||
          relative.find('/', slash + 1) != std::string::npos) {
        visitor.on_problem({reference, "", "key is not {prefix}/{product_id}/image_*.<ext>"});
        continue;
      }
      std::string product_id = relative.substr(0, slash);
      std::string name = relative.substr(slash + 1);
      if (!is_image_file_name(name)) {
        visitor.on_problem(
            {reference, id_prefix_ + product_id, "not an image_*.{jpg,jpeg,png,webp} object"});
        continue;
      }
      if (!current || current->metadata["original_id"] != product_id) {
        if (!emit()) {
          stopped = true;
          break;
        }
        current.emplace();
        current->external_id = id_prefix_ + product_id;
        current->title = current->external_id;
        current->metadata = {
            {"source", "s3"}, {"original_id", product_id}, {"bucket", uri_.bucket}};
        current->location = "s3://" + uri_.bucket + "/" + prefix + product_id + "/";
      }
      images.push_back(
          {name, SourceImage{reference, object.etag, static_cast<std::int64_t>(object.size)}});
    }
    // Stopping is not an error; the listing simply ends.
    return stopped ? make_error(ErrorCode::kCancelled, "stopped") : ok_status();
  };
  auto status = client_.list_objects(uri_.bucket, prefix, on_page);
  if (!status && status.error().code == ErrorCode::kCancelled) return ok_status();
  if (!status) return status;
  emit();
  return ok_status();
}

}  // namespace lookalike::ingest
