#include "search/model_fingerprint.h"

#include <algorithm>

#include "core/file_util.h"
#include "core/mapped_file.h"
#include "core/sha256.h"

namespace lookalike::search {

namespace {

constexpr std::size_t kSampleBytes = 64 * 1024;
constexpr std::size_t kSamples = 16;

}  // namespace

Result<std::string> model_fingerprint(const std::filesystem::path& model_dir,
                                      const image::PreprocessConfig& preprocess) {
  auto config = read_json_file(model_dir / "config.json");
  if (!config) return config.error();
  auto weights = MappedFile::open(model_dir / "model.safetensors");
  if (!weights) return weights.error();
  Sha256 hash;
  hash.update(config->dump());
  auto bytes = weights->bytes();
  // The first sample covers the header (tensor names, dtypes, shapes, offsets).
  for (std::size_t i = 0; i < kSamples && !bytes.empty(); ++i) {
    std::size_t offset = (bytes.size() - std::min(bytes.size(), kSampleBytes)) * i / (kSamples - 1);
    std::size_t length = std::min(kSampleBytes, bytes.size() - offset);
    hash.update(std::string_view(reinterpret_cast<const char*>(bytes.data()) + offset, length));
  }
  hash.update(std::to_string(bytes.size()));
  std::string name = config->value("_name_or_path", std::string());
  if (name.empty()) name = model_dir.filename().string();
  return name + "@" + hash.hex_digest().substr(0, 16) + "+pp" +
         preprocess.fingerprint().substr(0, 12);
}

}  // namespace lookalike::search
