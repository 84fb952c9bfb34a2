#include "apps/image_loader.h"

#include "image/preprocess_config.h"

namespace lookalike::apps {

Result<ImageLoader> ImageLoader::for_model(const std::filesystem::path& model_dir) {
  auto config = image::PreprocessConfig::load(model_dir);
  if (!config) return config.error();
  return ImageLoader(image::ClipPreprocessor(*config), image::DecodeLimits{});
}

std::vector<LoadedImage> ImageLoader::load(const std::vector<std::string>& files) const {
  std::vector<LoadedImage> out(files.size());
#pragma omp parallel for schedule(dynamic)
  for (std::size_t i = 0; i < files.size(); ++i) {
    out[i].file = files[i];
    auto decoded = image::decode_image_file(files[i], limits_);
    if (!decoded) {
      out[i].tensor = decoded.error();
      continue;
    }
    out[i].tensor = preprocessor_.preprocess(*decoded);
  }
  return out;
}

}  // namespace lookalike::apps
