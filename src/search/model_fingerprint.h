// The model fingerprint stored with every embedding: which weights and which preprocessing made a
// vector. Vectors with different fingerprints are never compared (a model change means re-embed).
#pragma once

#include <filesystem>
#include <string>

#include "core/result.h"
#include "image/preprocess_config.h"

namespace lookalike::search {

// "<model name>@<16 hex>+pp<12 hex>": the hex after '@' hashes config.json, the safetensors header
// and 64 KiB samples spread over the weights (cheap even for 600 MB, yet two random-weight models
// of the same shape differ); the hex after "pp" is PreprocessConfig::fingerprint().
Result<std::string> model_fingerprint(const std::filesystem::path& model_dir,
                                      const image::PreprocessConfig& preprocess);

}  // namespace lookalike::search
