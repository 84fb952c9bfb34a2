// ClipConfig: the architecture read from a Hugging Face CLIP `config.json` (CLIPModel layout:
// `text_config`, `vision_config`, `projection_dim`). Missing keys take transformers' CLIP defaults;
// out-of-range or inconsistent values are errors naming config.json and the key.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace lookalike::clip {

enum class Activation { kQuickGelu, kGelu };

std::string_view activation_name(Activation activation);

// Settings shared by both transformer towers.
struct EncoderConfig {
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  Activation activation = Activation::kQuickGelu;
  float layer_norm_eps = 1e-5f;

  int head_dim() const { return hidden_size / num_heads; }
};

struct VisionConfig {
  EncoderConfig encoder;
  int image_size = 224;
  int patch_size = 32;
  int num_channels = 3;

  int grid() const { return image_size / patch_size; }     // patches per side
  int num_patches() const { return grid() * grid(); }      // 49 for ViT-B/32
  int num_positions() const { return num_patches() + 1; }  // + the class token
  int patch_dim() const { return num_channels * patch_size * patch_size; }
};

struct TextConfig {
  EncoderConfig encoder;
  int vocab_size = 49408;
  int max_position_embeddings = 77;
  // HF pools at argmax(ids) when this is the legacy 2, else at the first eos_token_id.
  int eos_token_id = 2;
};

struct ClipConfig {
  VisionConfig vision;
  TextConfig text;
  int projection_dim = 512;
  // True when the weights are random (written by `model init-random`): such a model's
  // embeddings measure speed, never meaning.
  bool test_model = false;
  std::string name;  // `_name_or_path` when present, else the directory name
  nlohmann::json raw;

  static Result<ClipConfig> from_json(const nlohmann::json& json);
  static Result<ClipConfig> load(const std::filesystem::path& model_dir);

  // One-line JSON summary (`lookalike model info`).
  nlohmann::json summary() const;
};

}  // namespace lookalike::clip
