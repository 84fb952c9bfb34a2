// pull_model: downloads a CLIP model directory from the Hugging Face Hub (`lookalike model pull`),
// resuming interrupted files and verifying each one against the hub's sizes and checksums.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"

namespace lookalike::clip {

struct PullOptions {
  std::string repo = "openai/clip-vit-base-patch32";
  std::string revision = "main";  // branch, tag or commit; files all come from the commit it names
  std::filesystem::path dir;      // destination model directory (created)
  std::string endpoint = "https://huggingface.co";  // see default_hf_endpoint()
  std::string token;                                // empty: anonymous; see default_hf_token()
  std::vector<std::string> files = {"config.json",
                                    "model.safetensors",
                                    "vocab.json",
                                    "merges.txt",
                                    "tokenizer.json",
                                    "tokenizer_config.json",
                                    "special_tokens_map.json",
                                    "preprocessor_config.json"};
  int max_retries = 5;  // per file, with exponential backoff, resuming each time
  std::chrono::milliseconds initial_backoff{500};  // doubles after each failed attempt (max 60 s)
};

struct PullProgress {
  std::string file;
  std::uint64_t done_bytes;
  std::uint64_t total_bytes;  // 0 if unknown
};
using PullProgressFn = std::function<void(const PullProgress&)>;

struct PulledFile {
  std::string file;
  std::uint64_t size;
  std::string sha256;  // of the local file
  bool verified;       // checked against the hub's sha256 (LFS) or git blob id, not just the size
  bool skipped_existing;  // already present and matching: not downloaded again
};

// Files pull_model refuses to go without when they are requested but absent from the repo.
const std::vector<std::string>& required_model_files();

// Asks the hub API (`{endpoint}/api/models/{repo}/revision/{revision}?blobs=true`) for the file
// list, then fetches each requested file from `{endpoint}/{repo}/resolve/{commit}/{file}`
// (following the CDN redirect) into `dir/.cache/<file>.incomplete`, resuming a partial file
// with a Range request, verifies size and sha256 / git blob id, and renames it into `dir`.
// Files already in `dir` that match are skipped; optional files missing from the repo are left
// out of the result. Errors: kNotFound (repo, revision or file missing, or private without a
// token), kFailedPrecondition (token rejected, gated repo, another pull running in `dir`),
// kCorruptData (checksum mismatch: the partial file is deleted), kNetwork (after the retries),
// kInvalidArgument, kIoError.
Result<std::vector<PulledFile>> pull_model(const PullOptions& options,
                                           const PullProgressFn& progress = {});

// HF_ENDPOINT if set (as huggingface_hub reads it), else "https://huggingface.co".
std::string default_hf_endpoint();

// HF_TOKEN (or the older HUGGING_FACE_HUB_TOKEN) if set, else the token `huggingface-cli login`
// saved ($HF_TOKEN_PATH, else $HF_HOME/token, else $XDG_CACHE_HOME/huggingface/token or
// ~/.cache/huggingface/token); empty if there is none.
std::string default_hf_token();

}  // namespace lookalike::clip
