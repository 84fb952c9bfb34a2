// VisionTower: CLIP's image encoder (HF `CLIPVisionTransformer` + `visual_projection`):
// patch embedding (a stride-P convolution done as one matrix product), class token, positions,
// pre-LN, encoder, post-LN of token 0, projection.
// Thread-safety: embed() is const and may run concurrently.
#pragma once

#include <memory>
#include <vector>

#include "clip/transformer_encoder.h"

namespace lookalike::clip {

class VisionTower {
 public:
  static Result<VisionTower> load(const WeightReader& reader, const ClipConfig& config);

  // pixels: [batch, channels, image_size, image_size] (preprocessed, CHW per image);
  // out: [batch, projection_dim], the raw (unnormalised) projection.
  void embed(const float* pixels, int batch, float* out) const;

  int tokens_per_image() const { return config_.num_positions(); }

 private:
  VisionConfig config_;
  int projection_dim_ = 0;
  const ComputeBackend* backend_ = nullptr;
  std::unique_ptr<PackedWeights> patch_embedding_;  // [hidden, C·P·P], no bias
  std::vector<float> class_embedding_;              // [hidden]
  std::vector<float> position_embedding_;           // [tokens, hidden]
  std::vector<float> pre_ln_gamma_, pre_ln_beta_, post_ln_gamma_, post_ln_beta_;
  TransformerEncoder encoder_;
  std::unique_ptr<PackedWeights> projection_;  // [projection_dim, hidden], no bias
};

}  // namespace lookalike::clip
