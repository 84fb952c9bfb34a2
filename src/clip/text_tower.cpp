#include "clip/text_tower.h"

#include <algorithm>

namespace lookalike::clip {

Result<TextTower> TextTower::load(const WeightReader& reader, const ClipConfig& config) {
  TextTower tower;
  tower.config_ = config.text;
  tower.projection_dim_ = config.projection_dim;
  tower.backend_ = &reader.backend();
  const int d = config.text.encoder.hidden_size;
  const std::string p = "text_model.";
  auto tokens = reader.tensor_view(p + "embeddings.token_embedding.weight",
                                   {config.text.vocab_size, d}, tower.token_embedding_storage_);
  if (!tokens) return tokens.error();
  tower.token_embedding_ = *tokens;
  if (auto status = reader.read_into({{&tower.position_embedding_,
                                       p + "embeddings.position_embedding.weight",
                                       {config.text.max_position_embeddings, d}},
                                      {&tower.final_ln_gamma_, p + "final_layer_norm.weight", {d}},
                                      {&tower.final_ln_beta_, p + "final_layer_norm.bias", {d}}});
      !status) {
    return status.error();
  }
  auto encoder = TransformerEncoder::load(reader, p + "encoder", config.text.encoder);
  if (!encoder) return encoder.error();
  tower.encoder_ = std::move(encoder).value();
  auto projection = reader.linear("text_projection", config.projection_dim, d, false);
  if (!projection) return projection.error();
  tower.projection_ = std::move(projection).value();
  return tower;
}

int TextTower::pooled_position(std::span<const std::int32_t> ids) const {
  if (config_.eos_token_id == 2) {
    return static_cast<int>(std::max_element(ids.begin(), ids.end()) - ids.begin());
  }
  auto it = std::find(ids.begin(), ids.end(), config_.eos_token_id);
  return it == ids.end() ? static_cast<int>(ids.size()) - 1 : static_cast<int>(it - ids.begin());
}

Status TextTower::embed(std::span<const std::vector<std::int32_t>> ids, float* out,
                        bool stop_at_end) const {
  const int d = config_.encoder.hidden_size;
  std::vector<Sequence> sequences;
  std::vector<int> pooled_rows;
  int tokens = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto& seq = ids[i];
    if (seq.empty() || static_cast<int>(seq.size()) > config_.max_position_embeddings) {
      return make_error(ErrorCode::kInvalidArgument,
                        "text " + std::to_string(i) + ": " + std::to_string(seq.size()) +
                            " tokens, expected 1 to " +
                            std::to_string(config_.max_position_embeddings));
    }
    for (auto id : seq) {
      if (id < 0 || id >= config_.vocab_size) {
        return make_error(ErrorCode::kInvalidArgument, "text " + std::to_string(i) + ": token id " +
                                                           std::to_string(id) +
                                                           " is outside the vocabulary");
      }
    }
    const int pooled = pooled_position(seq);
    const int length = stop_at_end ? pooled + 1 : static_cast<int>(seq.size());
    sequences.push_back({tokens, length});
    pooled_rows.push_back(tokens + pooled);
    tokens += length;
  }
  std::vector<float> hidden(static_cast<std::size_t>(tokens) * d);
  for (std::size_t s = 0; s < sequences.size(); ++s) {
    for (int t = 0; t < sequences[s].length; ++t) {
      const float* tok = token_embedding_ + static_cast<std::size_t>(ids[s][t]) * d;
      const float* pos = position_embedding_.data() + static_cast<std::size_t>(t) * d;
      float* row = hidden.data() + static_cast<std::size_t>(sequences[s].first + t) * d;
      for (int i = 0; i < d; ++i) row[i] = tok[i] + pos[i];
    }
  }
  encoder_.forward(hidden.data(), tokens, sequences, /*causal=*/true);
  std::vector<float> pooled(ids.size() * d);
  for (std::size_t s = 0; s < ids.size(); ++s) {
    layer_norm(hidden.data() + static_cast<std::size_t>(pooled_rows[s]) * d, 1, d,
               final_ln_gamma_.data(), final_ln_beta_.data(), config_.encoder.layer_norm_eps,
               pooled.data() + s * d);
  }
  backend_->linear(pooled.data(), static_cast<int>(ids.size()), *projection_, out, Epilogue::kNone);
  return ok_status();
}

}  // namespace lookalike::clip
