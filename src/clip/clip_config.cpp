#include "clip/clip_config.h"

#include "core/file_util.h"

namespace lookalike::clip {

namespace {

Error bad_key(const std::string& key, const std::string& why) {
  return make_error(ErrorCode::kCorruptData, "config.json: " + key + ": " + why);
}

// Reads an integer key in [min_value, max_value], or the default when the key is absent.
Result<int> read_int(const nlohmann::json& obj, const std::string& prefix, const char* key,
                     int default_value, int min_value, int max_value) {
  if (!obj.contains(key)) return default_value;
  const auto& v = obj[key];
  if (!v.is_number_integer()) return bad_key(prefix + key, "must be an integer, got " + v.dump());
  auto value = v.get<long long>();
  if (value < min_value || value > max_value) {
    return bad_key(prefix + key, std::to_string(value) + " is outside [" +
                                     std::to_string(min_value) + ", " + std::to_string(max_value) +
                                     "]");
  }
  return static_cast<int>(value);
}

Status read_encoder(const nlohmann::json& obj, const std::string& prefix,
                    const EncoderConfig& defaults, EncoderConfig& out) {
  auto hidden = read_int(obj, prefix, "hidden_size", defaults.hidden_size, 1, 1 << 16);
  if (!hidden) return hidden.error();
  auto inter = read_int(obj, prefix, "intermediate_size", defaults.intermediate_size, 1, 1 << 18);
  if (!inter) return inter.error();
  auto layers = read_int(obj, prefix, "num_hidden_layers", defaults.num_layers, 1, 1024);
  if (!layers) return layers.error();
  auto heads = read_int(obj, prefix, "num_attention_heads", defaults.num_heads, 1, 1024);
  if (!heads) return heads.error();
  if (*hidden % *heads != 0) {
    return bad_key(
        prefix + "num_attention_heads",
        std::to_string(*heads) + " does not divide hidden_size " + std::to_string(*hidden));
  }
  out.hidden_size = *hidden;
  out.intermediate_size = *inter;
  out.num_layers = *layers;
  out.num_heads = *heads;
  out.activation = defaults.activation;
  if (obj.contains("hidden_act")) {
    const auto& act = obj["hidden_act"];
    if (act == "quick_gelu") {
      out.activation = Activation::kQuickGelu;
    } else if (act == "gelu") {
      out.activation = Activation::kGelu;
    } else {
      return make_error(ErrorCode::kUnsupported, "config.json: " + prefix +
                                                     "hidden_act: " + act.dump() +
                                                     " is not supported (quick_gelu or gelu)");
    }
  }
  out.layer_norm_eps = defaults.layer_norm_eps;
  if (obj.contains("layer_norm_eps")) {
    const auto& eps = obj["layer_norm_eps"];
    if (!eps.is_number() || !(eps.get<double>() > 0.0) || eps.get<double>() > 1.0) {
      return bad_key(prefix + "layer_norm_eps", "must be a number in (0, 1], got " + eps.dump());
    }
    out.layer_norm_eps = eps.get<float>();
  }
  return ok_status();
}

}  // namespace

std::string_view activation_name(Activation activation) {
  return activation == Activation::kQuickGelu ? "quick_gelu" : "gelu";
}

Result<ClipConfig> ClipConfig::from_json(const nlohmann::json& json) {
  if (!json.is_object()) return bad_key("(root)", "must be a JSON object");
  if (json.contains("model_type") && json["model_type"] != "clip") {
    return make_error(ErrorCode::kUnsupported,
                      "config.json: model_type " + json["model_type"].dump() + " is not \"clip\"");
  }
  ClipConfig config;
  config.raw = json;
  auto projection = read_int(json, "", "projection_dim", 512, 1, 1 << 16);
  if (!projection) return projection.error();
  config.projection_dim = *projection;

  static const nlohmann::json kEmpty = nlohmann::json::object();
  const auto& text = json.contains("text_config") ? json["text_config"] : kEmpty;
  const auto& vision = json.contains("vision_config") ? json["vision_config"] : kEmpty;
  if (!text.is_object()) return bad_key("text_config", "must be an object");
  if (!vision.is_object()) return bad_key("vision_config", "must be an object");

  // transformers' CLIPTextConfig / CLIPVisionConfig defaults (ViT-B/32).
  EncoderConfig text_defaults{512, 2048, 12, 8, Activation::kQuickGelu, 1e-5f};
  EncoderConfig vision_defaults{768, 3072, 12, 12, Activation::kQuickGelu, 1e-5f};
  if (auto s = read_encoder(text, "text_config.", text_defaults, config.text.encoder); !s)
    return s.error();
  if (auto s = read_encoder(vision, "vision_config.", vision_defaults, config.vision.encoder); !s) {
    return s.error();
  }
  auto vocab = read_int(text, "text_config.", "vocab_size", 49408, 2, 1 << 22);
  if (!vocab) return vocab.error();
  auto positions = read_int(text, "text_config.", "max_position_embeddings", 77, 2, 1 << 16);
  if (!positions) return positions.error();
  auto eos = read_int(text, "text_config.", "eos_token_id", 2, 0, *vocab - 1);
  if (!eos) return eos.error();
  config.text.eos_token_id = *eos;
  config.text.vocab_size = *vocab;
  config.text.max_position_embeddings = *positions;

  auto image = read_int(vision, "vision_config.", "image_size", 224, 1, 1 << 14);
  if (!image) return image.error();
  auto patch = read_int(vision, "vision_config.", "patch_size", 32, 1, 1 << 12);
  if (!patch) return patch.error();
  auto channels = read_int(vision, "vision_config.", "num_channels", 3, 3, 3);
  if (!channels) return channels.error();
  if (*image % *patch != 0) {
    return bad_key(
        "vision_config.patch_size",
        std::to_string(*patch) + " does not divide image_size " + std::to_string(*image));
  }
  config.vision.image_size = *image;
  config.vision.patch_size = *patch;
  config.vision.num_channels = *channels;

  config.test_model = json.value("lookalike_test_model", false);
  config.name = json.value("_name_or_path", std::string());
  return config;
}

Result<ClipConfig> ClipConfig::load(const std::filesystem::path& model_dir) {
  auto json = read_json_file(model_dir / "config.json");
  if (!json) return json.error();
  auto config = from_json(*json);
  if (!config) return config.error().with_context(model_dir.string());
  if (config->name.empty()) config->name = model_dir.filename().string();
  return config;
}

nlohmann::json ClipConfig::summary() const {
  auto encoder = [](const EncoderConfig& e) {
    return nlohmann::json{{"hidden_size", e.hidden_size},
                          {"intermediate_size", e.intermediate_size},
                          {"layers", e.num_layers},
                          {"heads", e.num_heads},
                          {"hidden_act", activation_name(e.activation)},
                          {"layer_norm_eps", e.layer_norm_eps}};
  };
  auto vision_json = encoder(vision.encoder);
  vision_json["image_size"] = vision.image_size;
  vision_json["patch_size"] = vision.patch_size;
  vision_json["tokens"] = vision.num_positions();
  auto text_json = encoder(text.encoder);
  text_json["vocab_size"] = text.vocab_size;
  text_json["max_position_embeddings"] = text.max_position_embeddings;
  return {{"name", name},
          {"test_model", test_model},
          {"projection_dim", projection_dim},
          {"vision", vision_json},
          {"text", text_json}};
}

}  // namespace lookalike::clip
