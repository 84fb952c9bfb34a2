#include "clip/vision_tower.h"

#include <algorithm>
#include <cstring>

namespace lookalike::clip {

Result<VisionTower> VisionTower::load(const WeightReader& reader, const ClipConfig& config) {
  VisionTower tower;
  tower.config_ = config.vision;
  tower.projection_dim_ = config.projection_dim;
  tower.backend_ = &reader.backend();
  const auto& v = config.vision;
  const int d = v.encoder.hidden_size;
  const std::string p = "vision_model.";

  auto patch = reader.tensor(p + "embeddings.patch_embedding.weight",
                             {d, v.num_channels, v.patch_size, v.patch_size});
  if (!patch) return patch.error();
  // [hidden, C, P, P] flattens to [hidden, C·P·P] in the same (c, y, x) order as our patches.
  tower.patch_embedding_ = reader.backend().pack(patch->data(), nullptr, d, v.patch_dim());

  if (auto status =
          reader.read_into({{&tower.class_embedding_, p + "embeddings.class_embedding", {d}},
                            {&tower.position_embedding_,
                             p + "embeddings.position_embedding.weight",
                             {v.num_positions(), d}},
                            {&tower.pre_ln_gamma_, p + "pre_layrnorm.weight", {d}},
                            {&tower.pre_ln_beta_, p + "pre_layrnorm.bias", {d}},
                            {&tower.post_ln_gamma_, p + "post_layernorm.weight", {d}},
                            {&tower.post_ln_beta_, p + "post_layernorm.bias", {d}}});
      !status) {
    return status.error();
  }
  auto encoder = TransformerEncoder::load(reader, p + "encoder", v.encoder);
  if (!encoder) return encoder.error();
  tower.encoder_ = std::move(encoder).value();
  auto projection = reader.linear("visual_projection", config.projection_dim, d, false);
  if (!projection) return projection.error();
  tower.projection_ = std::move(projection).value();
  return tower;
}

void VisionTower::embed(const float* pixels, int batch, float* out) const {
  const int d = config_.encoder.hidden_size;
  const int grid = config_.grid();
  const int patch = config_.patch_size;
  const int channels = config_.num_channels;
  const int side = config_.image_size;
  const int patches = config_.num_patches();
  const int tokens = config_.num_positions();
  const int patch_dim = config_.patch_dim();

  // im2col: one row per patch, (c, y, x) order, patches in raster order over the grid.
  std::vector<float> columns(static_cast<std::size_t>(batch) * patches * patch_dim);
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < batch; ++b) {
    for (int g = 0; g < patches; ++g) {
      const int gy = g / grid;
      const int gx = g % grid;
      float* row = columns.data() + (static_cast<std::size_t>(b) * patches + g) * patch_dim;
      for (int c = 0; c < channels; ++c) {
        for (int y = 0; y < patch; ++y) {
          const float* src =
              pixels +
              ((static_cast<std::size_t>(b) * channels + c) * side + gy * patch + y) * side +
              gx * patch;
          std::memcpy(row + (c * patch + y) * patch, src, sizeof(float) * patch);
        }
      }
    }
  }
  std::vector<float> embedded(static_cast<std::size_t>(batch) * patches * d);
  backend_->linear(columns.data(), batch * patches, *patch_embedding_, embedded.data(),
                   Epilogue::kNone);

  std::vector<float> hidden(static_cast<std::size_t>(batch) * tokens * d);
  std::vector<Sequence> sequences(batch);
  for (int b = 0; b < batch; ++b) {
    sequences[b] = {b * tokens, tokens};
    float* h = hidden.data() + static_cast<std::size_t>(b) * tokens * d;
    for (int i = 0; i < d; ++i) h[i] = class_embedding_[i] + position_embedding_[i];
    for (int t = 1; t < tokens; ++t) {
      const float* e = embedded.data() + (static_cast<std::size_t>(b) * patches + t - 1) * d;
      const float* pos = position_embedding_.data() + static_cast<std::size_t>(t) * d;
      float* row = h + static_cast<std::size_t>(t) * d;
      for (int i = 0; i < d; ++i) row[i] = e[i] + pos[i];
    }
  }
  const float eps = config_.encoder.layer_norm_eps;
  layer_norm(hidden.data(), batch * tokens, d, pre_ln_gamma_.data(), pre_ln_beta_.data(), eps,
             hidden.data());
  encoder_.forward(hidden.data(), batch * tokens, sequences, /*causal=*/false);

  std::vector<float> pooled(static_cast<std::size_t>(batch) * d);
  for (int b = 0; b < batch; ++b) {
    layer_norm(hidden.data() + static_cast<std::size_t>(b) * tokens * d, 1, d,
               post_ln_gamma_.data(), post_ln_beta_.data(), eps,
               pooled.data() + static_cast<std::size_t>(b) * d);
  }
  backend_->linear(pooled.data(), batch, *projection_, out, Epilogue::kNone);
}

}  // namespace lookalike::clip
