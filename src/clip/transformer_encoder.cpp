#include "clip/transformer_encoder.h"

namespace lookalike::clip {

Result<TransformerEncoder> TransformerEncoder::load(const WeightReader& reader,
                                                    const std::string& prefix,
                                                    const EncoderConfig& config) {
  TransformerEncoder encoder;
  encoder.config_ = config;
  encoder.backend_ = &reader.backend();
  const int d = config.hidden_size;
  const int inter = config.intermediate_size;
  for (int i = 0; i < config.num_layers; ++i) {
    const std::string p = prefix + ".layers." + std::to_string(i) + ".";
    Layer layer;
    if (auto status = reader.read_into({{&layer.ln1_gamma, p + "layer_norm1.weight", {d}},
                                        {&layer.ln1_beta, p + "layer_norm1.bias", {d}},
                                        {&layer.ln2_gamma, p + "layer_norm2.weight", {d}},
                                        {&layer.ln2_beta, p + "layer_norm2.bias", {d}}});
        !status) {
      return status.error();
    }
    auto qkv = reader.stacked_linear(
        {p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj"}, d, d);
    if (!qkv) return qkv.error();
    auto out = reader.linear(p + "self_attn.out_proj", d, d, true);
    if (!out) return out.error();
    auto fc1 = reader.linear(p + "mlp.fc1", inter, d, true);
    if (!fc1) return fc1.error();
    auto fc2 = reader.linear(p + "mlp.fc2", d, inter, true);
    if (!fc2) return fc2.error();
    layer.qkv = std::move(qkv).value();
    layer.out = std::move(out).value();
    layer.fc1 = std::move(fc1).value();
    layer.fc2 = std::move(fc2).value();
    encoder.layers_.push_back(std::move(layer));
  }
  return encoder;
}

void TransformerEncoder::forward(float* hidden, int tokens, std::span<const Sequence> sequences,
                                 bool causal) const {
  const int d = config_.hidden_size;
  const std::size_t rows = static_cast<std::size_t>(tokens);
  std::vector<float> normed(rows * d);
  std::vector<float> qkv(rows * 3 * d);
  std::vector<float> context(rows * d);
  const Epilogue activation =
      config_.activation == Activation::kQuickGelu ? Epilogue::kQuickGelu : Epilogue::kGelu;
  for (const auto& layer : layers_) {
    layer_norm(hidden, tokens, d, layer.ln1_gamma.data(), layer.ln1_beta.data(),
               config_.layer_norm_eps, normed.data());
    backend_->linear(normed.data(), tokens, *layer.qkv, qkv.data(), Epilogue::kNone);
    attention(qkv.data(), sequences, d, config_.num_heads, causal, context.data());
    backend_->linear(context.data(), tokens, *layer.out, hidden, Epilogue::kAccumulate);
    layer_norm(hidden, tokens, d, layer.ln2_gamma.data(), layer.ln2_beta.data(),
               config_.layer_norm_eps, normed.data());
    backend_->mlp(normed.data(), tokens, *layer.fc1, *layer.fc2, activation, hidden);
  }
}

}  // namespace lookalike::clip
