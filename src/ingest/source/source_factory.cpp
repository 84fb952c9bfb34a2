#include "ingest/source/source_factory.h"

#include <filesystem>
#include <system_error>

#include "ingest/source/directory_source.h"
#include "ingest/source/manifest_source.h"
#include "ingest/source/s3_source.h"

namespace lookalike::ingest {

namespace fs = std::filesystem;

Result<std::unique_ptr<ProductSource>> open_product_source(const std::string& spec,
                                                           const SourceOptions& options) {
  if (spec.starts_with("s3://")) {
    auto uri = parse_s3_uri(spec);
    if (!uri) return uri.error();
    if (options.s3 == nullptr) {
      return make_error(ErrorCode::kFailedPrecondition, spec + ": S3 is not configured");
    }
    return std::unique_ptr<ProductSource>(
        std::make_unique<S3Source>(*options.s3, *uri, options.id_prefix));
  }
  if (spec.starts_with("http://") || spec.starts_with("https://")) {
    return make_error(ErrorCode::kUnsupported,
                      spec +
                          ": download the manifest first; a source is a directory, a .csv or "
                          ".jsonl manifest, or s3://bucket/prefix");
  }
  std::error_code ec;
  auto status = fs::status(spec, ec);
  if (ec || !fs::exists(status)) {
    return make_error(ErrorCode::kNotFound, spec + ": no such file or directory");
  }
  if (fs::is_directory(status)) {
    return std::unique_ptr<ProductSource>(
        std::make_unique<DirectorySource>(fs::absolute(spec), options.id_prefix));
  }
  auto format = ManifestSource::format_for(spec);
  if (!format) return format.error();
  return std::unique_ptr<ProductSource>(
      std::make_unique<ManifestSource>(fs::absolute(spec), *format, options.id_prefix));
}

}  // namespace lookalike::ingest
