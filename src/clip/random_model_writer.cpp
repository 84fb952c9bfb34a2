#include "clip/random_model_writer.h"

#include <cmath>
#include <string>
#include <vector>

#include "clip/clip_config.h"
#include "clip/safetensors_writer.h"
#include "core/file_util.h"

namespace lookalike::clip {

namespace {

// splitmix64: tiny, fast and deterministic for a given seed on every platform.
class SplitMix {
 public:
  explicit SplitMix(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [-1, 1).
  float symmetric() {
    return static_cast<float>(static_cast<double>(next() >> 11) * 0x1.0p-52 - 1.0);
  }

 private:
  std::uint64_t state_;
};

struct Spec {
  std::string name;
  std::vector<std::int64_t> shape;
  float mean;  // 1 for layer-norm gains, 0 otherwise
  float std;   // of the uniform noise around the mean
};

void add_encoder(std::vector<Spec>& specs, const std::string& prefix, const EncoderConfig& e) {
  const std::int64_t d = e.hidden_size;
  const std::int64_t inter = e.intermediate_size;
  // Scales after transformers' CLIP initialisation, so activations stay in a realistic range.
  const float attn_std =
      std::pow(static_cast<float>(d), -0.5f) * std::pow(2.0f * e.num_layers, -0.5f);
  const float fc_std = std::pow(2.0f * static_cast<float>(d), -0.5f);
  for (int i = 0; i < e.num_layers; ++i) {
    const std::string p = prefix + ".layers." + std::to_string(i) + ".";
    for (const char* proj : {"k_proj", "v_proj", "q_proj", "out_proj"}) {
      specs.push_back({p + "self_attn." + proj + ".weight", {d, d}, 0.0f, attn_std});
      specs.push_back({p + "self_attn." + proj + ".bias", {d}, 0.0f, 0.01f});
    }
    specs.push_back({p + "layer_norm1.weight", {d}, 1.0f, 0.05f});
    specs.push_back({p + "layer_norm1.bias", {d}, 0.0f, 0.01f});
    specs.push_back({p + "mlp.fc1.weight", {inter, d}, 0.0f, fc_std});
    specs.push_back({p + "mlp.fc1.bias", {inter}, 0.0f, 0.01f});
    specs.push_back({p + "mlp.fc2.weight", {d, inter}, 0.0f, attn_std});
    specs.push_back({p + "mlp.fc2.bias", {d}, 0.0f, 0.01f});
    specs.push_back({p + "layer_norm2.weight", {d}, 1.0f, 0.05f});
    specs.push_back({p + "layer_norm2.bias", {d}, 0.0f, 0.01f});
  }
}

std::vector<Spec> tensor_specs(const ClipConfig& c) {
  const std::int64_t dt = c.text.encoder.hidden_size;
  const std::int64_t dv = c.vision.encoder.hidden_size;
  const std::int64_t patch = c.vision.patch_size;
  std::vector<Spec> specs;
  specs.push_back(
      {"text_model.embeddings.token_embedding.weight", {c.text.vocab_size, dt}, 0.0f, 0.02f});
  specs.push_back({"text_model.embeddings.position_embedding.weight",
                   {c.text.max_position_embeddings, dt},
                   0.0f,
                   0.01f});
  add_encoder(specs, "text_model.encoder", c.text.encoder);
  specs.push_back({"text_model.final_layer_norm.weight", {dt}, 1.0f, 0.05f});
  specs.push_back({"text_model.final_layer_norm.bias", {dt}, 0.0f, 0.01f});
  specs.push_back({"vision_model.embeddings.class_embedding",
                   {dv},
                   0.0f,
                   std::pow(static_cast<float>(dv), -0.5f)});
  specs.push_back({"vision_model.embeddings.patch_embedding.weight",
                   {dv, c.vision.num_channels, patch, patch},
                   0.0f,
                   0.02f});
  specs.push_back({"vision_model.embeddings.position_embedding.weight",
                   {c.vision.num_positions(), dv},
                   0.0f,
                   0.02f});
  specs.push_back({"vision_model.pre_layrnorm.weight", {dv}, 1.0f, 0.05f});
  specs.push_back({"vision_model.pre_layrnorm.bias", {dv}, 0.0f, 0.01f});
  add_encoder(specs, "vision_model.encoder", c.vision.encoder);
  specs.push_back({"vision_model.post_layernorm.weight", {dv}, 1.0f, 0.05f});
  specs.push_back({"vision_model.post_layernorm.bias", {dv}, 0.0f, 0.01f});
  specs.push_back({"visual_projection.weight",
                   {c.projection_dim, dv},
                   0.0f,
                   std::pow(static_cast<float>(dv), -0.5f)});
  specs.push_back({"text_projection.weight",
                   {c.projection_dim, dt},
                   0.0f,
                   std::pow(static_cast<float>(dt), -0.5f)});
  specs.push_back({"logit_scale", {}, 2.6592f, 0.0f});
  return specs;
}

}  // namespace

Status write_random_model(const RandomModelOptions& options) {
  if (!is_float(options.dtype)) {
    return make_error(ErrorCode::kInvalidArgument, "init-random: dtype must be f32, f16 or bf16");
  }
  auto json = read_json_file(options.like / "config.json");
  if (!json) return json.error();
  auto config = ClipConfig::from_json(*json);
  if (!config) return config.error().with_context(options.like.string());

  std::error_code ec;
  std::filesystem::create_directories(options.out, ec);
  if (ec) return make_error(ErrorCode::kIoError, options.out.string() + ": " + ec.message());

  // The tokenizer and preprocessing files are the source model's own.
  for (const char* name : {"vocab.json", "merges.txt", "preprocessor_config.json", "tokenizer.json",
                           "tokenizer_config.json", "special_tokens_map.json"}) {
    const auto src = options.like / name;
    const bool required = std::string(name) == "vocab.json" || std::string(name) == "merges.txt" ||
                          std::string(name) == "preprocessor_config.json";
    if (!std::filesystem::exists(src)) {
      if (required)
        return make_error(ErrorCode::kNotFound, src.string() + ": required to write a model");
      continue;
    }
    std::filesystem::copy_file(src, options.out / name,
                               std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) return make_error(ErrorCode::kIoError, src.string() + ": copy: " + ec.message());
  }

  auto specs = tensor_specs(*config);
  std::vector<TensorData> tensors(specs.size());
#pragma omp parallel for schedule(dynamic)
  for (std::size_t i = 0; i < specs.size(); ++i) {
    SplitMix rng(options.seed * 0x100000001b3ull + i);
    std::int64_t numel = 1;
    for (auto d : specs[i].shape) numel *= d;
    std::vector<float> values(static_cast<std::size_t>(numel));
    // Uniform noise with the requested standard deviation: half-width std·√3.
    const float width = specs[i].std * 1.7320508f;
    for (auto& v : values) v = specs[i].mean + width * rng.symmetric();
    tensors[i] = {specs[i].name, options.dtype, specs[i].shape,
                  encode_floats(values, options.dtype)};
  }
  auto status = write_safetensors(options.out / "model.safetensors", tensors,
                                  {{"format", "pt"}, {"lookalike_test_model", "random weights"}});
  if (!status) return status;

  auto out_config = *json;
  out_config["lookalike_test_model"] = true;
  out_config["lookalike_note"] =
      "TEST MODEL: random weights written by `lookalike model init-random` (seed " +
      std::to_string(options.seed) + "); its embeddings measure speed, never meaning";
  // Named after the source model, or its directory when its config carries no name.
  const std::string source =
      config->name.empty() ? std::filesystem::weakly_canonical(options.like).filename().string()
                           : config->name;
  out_config["_name_or_path"] =
      "lookalike-random-" + source + "-seed" + std::to_string(options.seed);
  out_config["torch_dtype"] = options.dtype == DType::kF32   ? "float32"
                              : options.dtype == DType::kF16 ? "float16"
                                                             : "bfloat16";
  return write_file_atomic(options.out / "config.json", out_config.dump(2) + "\n");
}

}  // namespace lookalike::clip
