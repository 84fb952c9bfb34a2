#include "apps/re_embedder.h"

#include <vector>

#include "image/image_decoder.h"
#include "ingest/image_store.h"

namespace lookalike::apps {

Result<ReEmbedCounts> re_embed_missing(const clip::ClipModel& model,
                                       const image::ClipPreprocessor& preprocessor,
                                       catalog::Catalog& catalog, const std::string& fingerprint,
                                       const std::string& images_dir, int batch,
                                       const ReEmbedCallbacks& callbacks,
                                       const std::atomic<bool>* stop) {
  ingest::ImageStore store(images_dir);
  ReEmbedCounts counts;
  std::string after;
  const std::size_t tensor_size = model.image_tensor_size();
  const auto dim = static_cast<std::size_t>(model.embedding_dim());
  while (stop == nullptr || !stop->load()) {
    auto page = catalog.images_missing_embedding(fingerprint, after, batch);
    if (!page) return page.error();
    if (page->empty()) break;
    after = page->back().sha256;
    std::vector<float> pixels;
    std::vector<std::string> shas;
    for (const auto& image : *page) {
      auto decoded = image::decode_image_file(store.absolute(image.path));
      if (!decoded) {
        ++counts.failed;
        if (callbacks.failed) callbacks.failed(image.path, decoded.error());
        continue;
      }
      auto tensor = preprocessor.preprocess(*decoded);
      if (tensor.size() != tensor_size) {
        return make_error(ErrorCode::kInvalidArgument,
                          "preprocessor_config.json crop does not match the model's image_size");
      }
      pixels.insert(pixels.end(), tensor.begin(), tensor.end());
      shas.push_back(image.sha256);
    }
    if (shas.empty()) continue;
    std::vector<float> out(shas.size() * dim);
    if (auto status = model.embed_images(pixels.data(), static_cast<int>(shas.size()), out.data());
        !status) {
      return status.error();
    }
    std::vector<catalog::Embedding> embeddings;
    for (std::size_t i = 0; i < shas.size(); ++i) {
      embeddings.push_back(
          {shas[i], fingerprint,
           std::vector<float>(out.begin() + static_cast<std::ptrdiff_t>(i * dim),
                              out.begin() + static_cast<std::ptrdiff_t>((i + 1) * dim))});
    }
    if (auto status = catalog.put_embeddings(embeddings); !status) return status.error();
    counts.embedded += static_cast<std::int64_t>(shas.size());
    if (callbacks.progress) callbacks.progress(counts);
  }
  return counts;
}

}  // namespace lookalike::apps
