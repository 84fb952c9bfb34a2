#include "image/preprocess_config.h"

#include <cmath>
#include <limits>
#include <string_view>

#include "core/file_util.h"
#include "core/sha256.h"

namespace lookalike::image {
namespace {

using nlohmann::json;

// Bumped whenever the resize/crop/normalise arithmetic changes, so old fingerprints stop matching.
constexpr std::string_view kAlgorithm = "pillow-resample-hf-clip-v1";
constexpr int kMaxEdge = 16384;

Error bad(std::string_view key, std::string_view what) {
  return make_error(ErrorCode::kInvalidArgument,
                    "preprocessor config: " + std::string(key) + ": " + std::string(what));
}

std::string shown(const json& value) { return value.dump(); }

Status read_bool(const json& root, const char* key, bool& out) {
  auto it = root.find(key);
  if (it == root.end() || it->is_null()) return ok_status();
  if (!it->is_boolean()) return bad(key, "expected true or false, got " + shown(*it));
  out = it->get<bool>();
  return ok_status();
}

Result<int> positive_int(const json& value, const std::string& key) {
  if (!value.is_number_integer() &&
      !(value.is_number_float() && std::floor(value.get<double>()) == value.get<double>())) {
    return bad(key, "expected a positive integer, got " + shown(value));
  }
  const double number = value.get<double>();
  if (number <= 0 || number > kMaxEdge) {
    return bad(key, "must be between 1 and " + std::to_string(kMaxEdge) + ", got " + shown(value));
  }
  return static_cast<int>(number);
}

Result<double> finite_number(const json& value, const std::string& key) {
  if (!value.is_number()) return bad(key, "expected a number, got " + shown(value));
  const double number = value.get<double>();
  if (!std::isfinite(number)) return bad(key, "must be finite");
  return number;
}

// A number (broadcast) or a list of three numbers.
Status read_triple(const json& root, const char* key, std::array<double, 3>& out,
                   bool require_positive) {
  auto it = root.find(key);
  if (it == root.end() || it->is_null()) return ok_status();
  std::array<double, 3> values{};
  if (it->is_number()) {
    auto v = finite_number(*it, key);
    if (!v) return v.error();
    values = {*v, *v, *v};
  } else if (it->is_array()) {
    if (it->size() != 3) {
      return bad(key, "expected 3 values (one per RGB channel), got " + std::to_string(it->size()));
    }
    for (std::size_t i = 0; i < 3; ++i) {
      auto v = finite_number((*it)[i], std::string(key) + "[" + std::to_string(i) + "]");
      if (!v) return v.error();
      values[i] = *v;
    }
  } else {
    return bad(key, "expected a list of 3 numbers, got " + shown(*it));
  }
  if (require_positive) {
    for (std::size_t i = 0; i < 3; ++i) {
      if (!(values[i] > 0)) {
        return bad(std::string(key) + "[" + std::to_string(i) + "]",
                   "must be positive, got " + json(values[i]).dump());
      }
    }
  }
  out = values;
  return ok_status();
}

Status read_size(const json& root, PreprocessConfig& config) {
  auto it = root.find("size");
  if (it == root.end() || it->is_null()) return ok_status();
  if (it->is_number()) {  // legacy: an int means the shortest edge for CLIP
    auto edge = positive_int(*it, "size");
    if (!edge) return edge.error();
    config.shortest_edge = *edge;
    config.resize_width = config.resize_height = 0;
    return ok_status();
  }
  if (!it->is_object()) return bad("size", "expected an object, got " + shown(*it));
  if (auto edge = it->find("shortest_edge"); edge != it->end()) {
    if (it->contains("longest_edge")) {
      return bad("size.longest_edge", "is not supported together with shortest_edge");
    }
    auto value = positive_int(*edge, "size.shortest_edge");
    if (!value) return value.error();
    config.shortest_edge = *value;
    config.resize_width = config.resize_height = 0;
    return ok_status();
  }
  if (it->contains("height") || it->contains("width")) {
    if (!it->contains("height")) return bad("size.height", "missing (size has width only)");
    if (!it->contains("width")) return bad("size.width", "missing (size has height only)");
    auto height = positive_int(it->at("height"), "size.height");
    if (!height) return height.error();
    auto width = positive_int(it->at("width"), "size.width");
    if (!width) return width.error();
    config.shortest_edge = 0;
    config.resize_height = *height;
    config.resize_width = *width;
    return ok_status();
  }
  return bad("size", "needs \"shortest_edge\" or \"height\" and \"width\", got " + shown(*it));
}

Status read_crop_size(const json& root, PreprocessConfig& config) {
  auto it = root.find("crop_size");
  if (it == root.end() || it->is_null()) return ok_status();
  if (it->is_number()) {
    auto edge = positive_int(*it, "crop_size");
    if (!edge) return edge.error();
    config.crop_width = config.crop_height = *edge;
    return ok_status();
  }
  if (!it->is_object()) return bad("crop_size", "expected an object, got " + shown(*it));
  if (!it->contains("height")) return bad("crop_size.height", "missing");
  if (!it->contains("width")) return bad("crop_size.width", "missing");
  auto height = positive_int(it->at("height"), "crop_size.height");
  if (!height) return height.error();
  auto width = positive_int(it->at("width"), "crop_size.width");
  if (!width) return width.error();
  config.crop_height = *height;
  config.crop_width = *width;
  return ok_status();
}

Status read_resample(const json& root, PreprocessConfig& config) {
  auto it = root.find("resample");
  if (it == root.end() || it->is_null()) return ok_status();
  if (!it->is_number_integer()) return bad("resample", "expected an integer, got " + shown(*it));
  const auto value = it->get<std::int64_t>();
  if (value < 0 || value > 5) {
    return bad("resample", "expected a PIL resampling filter 0..5, got " + shown(*it));
  }
  if (value == 0) {
    return make_error(ErrorCode::kUnsupported,
                      "preprocessor config: resample: 0 (nearest) is not supported; use a "
                      "convolution filter (1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming)");
  }
  config.resample = static_cast<ResampleFilter>(value);
  return ok_status();
}

}  // namespace

Result<PreprocessConfig> PreprocessConfig::from_json(const nlohmann::json& root) {
  if (!root.is_object()) {
    return bad("(root)", "expected a JSON object, got " + std::string(root.type_name()));
  }
  PreprocessConfig config;
  for (const auto& [key, target] :
       {std::pair<const char*, bool*>{"do_convert_rgb", &config.do_convert_rgb},
        {"do_resize", &config.do_resize},
        {"do_center_crop", &config.do_center_crop},
        {"do_rescale", &config.do_rescale},
        {"do_normalize", &config.do_normalize}}) {
    if (auto s = read_bool(root, key, *target); !s) return s.error();
  }
  if (auto s = read_size(root, config); !s) return s.error();
  if (auto s = read_crop_size(root, config); !s) return s.error();
  if (auto s = read_resample(root, config); !s) return s.error();
  if (auto it = root.find("rescale_factor"); it != root.end() && !it->is_null()) {
    auto factor = finite_number(*it, "rescale_factor");
    if (!factor) return factor.error();
    if (!(*factor > 0)) return bad("rescale_factor", "must be positive, got " + shown(*it));
    config.rescale_factor = *factor;
  }
  if (auto s = read_triple(root, "image_mean", config.image_mean, false); !s) return s.error();
  if (auto s = read_triple(root, "image_std", config.image_std, true); !s) return s.error();
  return config;
}

Result<PreprocessConfig> PreprocessConfig::load(const std::filesystem::path& model_dir) {
  const auto path = model_dir / "preprocessor_config.json";
  auto json = read_json_file(path);
  if (!json) return json.error();
  auto config = from_json(*json);
  if (!config) return config.error().with_context(path.string());
  return config;
}

nlohmann::json PreprocessConfig::to_json() const {
  json out;  // std::map-backed: keys come out sorted, so dump() is canonical
  out["do_convert_rgb"] = do_convert_rgb;
  out["do_resize"] = do_resize;
  out["shortest_edge"] = shortest_edge;
  out["resize_width"] = resize_width;
  out["resize_height"] = resize_height;
  out["resample"] = static_cast<int>(resample);
  out["do_center_crop"] = do_center_crop;
  out["crop_width"] = crop_width;
  out["crop_height"] = crop_height;
  out["do_rescale"] = do_rescale;
  out["rescale_factor"] = rescale_factor;
  out["do_normalize"] = do_normalize;
  out["image_mean"] = image_mean;
  out["image_std"] = image_std;
  return out;
}

std::string PreprocessConfig::fingerprint() const {
  json canonical;
  canonical["algorithm"] = kAlgorithm;
  canonical["settings"] = to_json();
  return Sha256::of(canonical.dump());
}

}  // namespace lookalike::image
