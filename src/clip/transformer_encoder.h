// TransformerEncoder: CLIP's pre-LN encoder stack (HF `CLIPEncoder`), shared by both towers.
// Each layer: h += out_proj(attn(LN1(h))); h += fc2(act(fc1(LN2(h)))). q, k and v are one fused
// product. Hidden states are [tokens, hidden] for any number of independent sequences packed
// back to back (no padding is ever computed).
// Thread-safety: forward() is const and may run concurrently; weights are immutable after load.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "clip/clip_config.h"
#include "clip/kernels.h"
#include "clip/weight_reader.h"

namespace lookalike::clip {

class TransformerEncoder {
 public:
  // Reads `<prefix>.layers.{i}.…` (prefix e.g. "vision_model.encoder").
  static Result<TransformerEncoder> load(const WeightReader& reader, const std::string& prefix,
                                         const EncoderConfig& config);

  // hidden: [tokens, hidden_size], updated in place. causal masks later positions (text tower).
  void forward(float* hidden, int tokens, std::span<const Sequence> sequences, bool causal) const;

 private:
  struct Layer {
    std::vector<float> ln1_gamma, ln1_beta, ln2_gamma, ln2_beta;
    std::unique_ptr<PackedWeights> qkv, out, fc1, fc2;
  };

  EncoderConfig config_;
  const ComputeBackend* backend_ = nullptr;
  std::vector<Layer> layers_;
};

}  // namespace lookalike::clip
