#include "apps/model_loading.h"

#include <cstdio>

namespace lookalike::apps {

Result<std::unique_ptr<clip::ClipModel>> load_model_for_command(const std::filesystem::path& dir,
                                                                const GlobalOptions& global,
                                                                bool vision, bool text) {
  clip::ClipModelOptions options;
  options.backend = global.backend;
  auto precision = clip::parse_precision(global.precision);
  if (!precision) return precision.error();
  options.precision = *precision;
  options.load_vision = vision;
  options.load_text = text;
  auto model = clip::ClipModel::load(dir, options);
  if (model && (*model)->config().test_model) {
    std::fprintf(stderr,
                 "warning: %s is a TEST MODEL with random weights: its embeddings mean nothing\n",
                 (*model)->config().name.c_str());
  }
  return model;
}

}  // namespace lookalike::apps
