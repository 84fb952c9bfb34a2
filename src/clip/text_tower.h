// TextTower: CLIP's text encoder (HF `CLIPTextTransformer` + `text_projection`): token and
// position embeddings, causal encoder, final LN, pooling at the end token, projection.
// Because attention is causal, nothing after the pooled token can change it: sequences are cut
// right after their end token, which makes a short query cost a few tokens instead of 77.
// Thread-safety: embed() is const and may run concurrently. Ownership: may point into the
// model file's mapping, which the owner (ClipModel) keeps open as long as the tower lives.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "clip/transformer_encoder.h"

namespace lookalike::clip {

class TextTower {
 public:
  static Result<TextTower> load(const WeightReader& reader, const ClipConfig& config);

  // Where HF pools: the first position of the largest id when eos_token_id is the legacy 2
  // (the end token has the largest id in CLIP's vocabulary), else the first eos_token_id.
  int pooled_position(std::span<const std::int32_t> ids) const;

  // ids: one token sequence per text (start … end [padding]); out: [n, projection_dim] raw.
  // With stop_at_end, positions after the pooled one are not computed (same result, less work).
  Status embed(std::span<const std::vector<std::int32_t>> ids, float* out,
               bool stop_at_end = true) const;

 private:
  TextConfig config_;
  int projection_dim_ = 0;
  const ComputeBackend* backend_ = nullptr;
  // [vocab, hidden]: straight from the model file's mapping when it is F32 (only the rows
  // queries use become resident), else a converted copy in token_embedding_storage_.
  const float* token_embedding_ = nullptr;
  std::vector<float> token_embedding_storage_;
  std::vector<float> position_embedding_;  // [max_positions, hidden]
  std::vector<float> final_ln_gamma_, final_ln_beta_;
  TransformerEncoder encoder_;
  std::unique_ptr<PackedWeights> projection_;
};

}  // namespace lookalike::clip
