// ClipModel: a loaded Hugging Face CLIP model directory — config, tokenizer and both towers on a
// compute backend — with batched embedding of preprocessed images, token ids and texts.
// Embeddings are L2-normalised for search unless the raw projection is asked for.
// Thread-safety: every const method may be called concurrently once load() returned.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "clip/backend/compute_backend.h"
#include "clip/clip_config.h"
#include "clip/safetensors_file.h"
#include "clip/text_tower.h"
#include "clip/tokenizer.h"
#include "clip/vision_tower.h"

namespace lookalike::clip {

struct ClipModelOptions {
  std::string backend = "onednn";
  Precision precision = Precision::kF32;
  bool load_vision = true;
  bool load_text = true;
  // Images run through the vision tower this many at a time (bounds working memory).
  int max_image_batch = 16;
};

class ClipModel {
 public:
  static Result<std::unique_ptr<ClipModel>> load(const std::filesystem::path& model_dir,
                                                 const ClipModelOptions& options = {});

  const ClipConfig& config() const { return config_; }
  const ClipTokenizer& tokenizer() const { return tokenizer_; }
  const ComputeBackend& backend() const { return *backend_; }
  int embedding_dim() const { return config_.projection_dim; }
  // Pixels per image the vision tower expects: 3 · image_size².
  std::size_t image_tensor_size() const;
  bool has_vision() const { return vision_.has_value(); }
  bool has_text() const { return text_.has_value(); }

  // pixels: [batch, 3, image_size, image_size]; out: [batch, embedding_dim].
  Status embed_images(const float* pixels, int batch, float* out, bool normalize = true) const;
  // ids: one sequence per text, each with start and end tokens; out: [ids.size(), embedding_dim].
  Status embed_token_ids(std::span<const std::vector<std::int32_t>> ids, float* out,
                         bool normalize = true, bool stop_at_end = true) const;
  // Tokenises and embeds; out: [texts.size(), embedding_dim].
  Status embed_texts(std::span<const std::string> texts, float* out, bool normalize = true) const;

 private:
  ClipConfig config_;
  ClipTokenizer tokenizer_;
  std::unique_ptr<ComputeBackend> backend_;
  // The mapped weights stay open: the text tower reads its F32 token embeddings from them.
  // Declared before the towers so it outlives them.
  std::optional<SafetensorsFile> weights_;
  std::optional<VisionTower> vision_;
  std::optional<TextTower> text_;
  int max_image_batch_ = 16;

  ClipModel(ClipConfig config, ClipTokenizer tokenizer, std::unique_ptr<ComputeBackend> backend)
      : config_(std::move(config)),
        tokenizer_(std::move(tokenizer)),
        backend_(std::move(backend)) {}
};

}  // namespace lookalike::clip
