#include "clip/clip_model.h"

#include "clip/kernels.h"
#include "clip/safetensors_file.h"

namespace lookalike::clip {

Result<std::unique_ptr<ClipModel>> ClipModel::load(const std::filesystem::path& model_dir,
                                                   const ClipModelOptions& options) {
  if (!std::filesystem::is_directory(model_dir)) {
    return make_error(ErrorCode::kNotFound, model_dir.string() + ": model directory not found");
  }
  auto config = ClipConfig::load(model_dir);
  if (!config) return config.error();
  auto tokenizer = ClipTokenizer::load(model_dir);
  if (!tokenizer) return tokenizer.error().with_context(model_dir.string());
  auto backend = make_compute_backend(options.backend, options.precision);
  if (!backend) return backend.error();
  auto weights = SafetensorsFile::open(model_dir / "model.safetensors");
  if (!weights) return weights.error().with_context(model_dir.string());

  std::unique_ptr<ClipModel> model(new ClipModel(
      std::move(config).value(), std::move(tokenizer).value(), std::move(backend).value()));
  model->max_image_batch_ = options.max_image_batch;
  model->weights_.emplace(std::move(weights).value());
  WeightReader reader(*model->weights_, *model->backend_);
  if (options.load_vision) {
    auto vision = VisionTower::load(reader, model->config_);
    if (!vision) return vision.error().with_context(model_dir.string());
    model->vision_.emplace(std::move(vision).value());
  }
  if (options.load_text) {
    auto text = TextTower::load(reader, model->config_);
    if (!text) return text.error().with_context(model_dir.string());
    model->text_.emplace(std::move(text).value());
  }
  return model;
}

std::size_t ClipModel::image_tensor_size() const {
  const auto side = static_cast<std::size_t>(config_.vision.image_size);
  return static_cast<std::size_t>(config_.vision.num_channels) * side * side;
}

Status ClipModel::embed_images(const float* pixels, int batch, float* out, bool normalize) const {
  if (!vision_)
    return make_error(ErrorCode::kFailedPrecondition, "the vision tower was not loaded");
  const int dim = embedding_dim();
  const int step = std::max(1, max_image_batch_);
  for (int first = 0; first < batch; first += step) {
    const int count = std::min(step, batch - first);
    vision_->embed(pixels + first * image_tensor_size(), count,
                   out + static_cast<std::size_t>(first) * dim);
  }
  if (normalize) {
    for (int b = 0; b < batch; ++b) l2_normalize(out + static_cast<std::size_t>(b) * dim, dim);
  }
  return ok_status();
}

Status ClipModel::embed_token_ids(std::span<const std::vector<std::int32_t>> ids, float* out,
                                  bool normalize, bool stop_at_end) const {
  if (!text_) return make_error(ErrorCode::kFailedPrecondition, "the text tower was not loaded");
  if (ids.empty()) return ok_status();
  if (auto status = text_->embed(ids, out, stop_at_end); !status) return status;
  if (normalize) {
    const int dim = embedding_dim();
    for (std::size_t i = 0; i < ids.size(); ++i) l2_normalize(out + i * dim, dim);
  }
  return ok_status();
}

Status ClipModel::embed_texts(std::span<const std::string> texts, float* out,
                              bool normalize) const {
  std::vector<std::vector<std::int32_t>> ids;
  ids.reserve(texts.size());
  for (const auto& text : texts) {
    ids.push_back(
        tokenizer_.encode(text, static_cast<std::size_t>(config_.text.max_position_embeddings)));
  }
  return embed_token_ids(ids, out, normalize);
}

}  // namespace lookalike::clip
