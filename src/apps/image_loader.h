// ImageLoader: turns image files into the tensors the vision tower takes — decode, resize, crop,
// normalise — in parallel on the compute pool, reporting each bad file without stopping.
// Thread-safety: load() may be called from one thread at a time (it uses the whole pool).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "image/clip_preprocessor.h"
#include "image/image_decoder.h"

namespace lookalike::apps {

struct LoadedImage {
  std::string file;
  Result<std::vector<float>> tensor = make_error(ErrorCode::kInternal, "not loaded");
};

class ImageLoader {
 public:
  ImageLoader(image::ClipPreprocessor preprocessor, image::DecodeLimits limits)
      : preprocessor_(std::move(preprocessor)), limits_(limits) {}

  static Result<ImageLoader> for_model(const std::filesystem::path& model_dir);

  std::vector<LoadedImage> load(const std::vector<std::string>& files) const;
  const image::ClipPreprocessor& preprocessor() const { return preprocessor_; }
  const image::DecodeLimits& limits() const { return limits_; }

 private:
  image::ClipPreprocessor preprocessor_;
  image::DecodeLimits limits_;
};

}  // namespace lookalike::apps
