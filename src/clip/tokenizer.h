// ClipTokenizer: CLIP's byte-level BPE (vocab.json + merges.txt of a Hugging Face model dir) with
// the normalisation of tokenizer.json, so that text ids match those the model was trained with.
// Thread-safety: const methods may be called from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"

namespace lookalike::clip {

class ClipTokenizer {
 public:
  // Reads model_dir/vocab.json and model_dir/merges.txt; errors name the file at fault.
  static Result<ClipTokenizer> load(const std::filesystem::path& model_dir);

  ClipTokenizer(ClipTokenizer&&) noexcept;
  ClipTokenizer& operator=(ClipTokenizer&&) noexcept;
  ~ClipTokenizer();

  // Token ids: start token, the text's tokens, end token; at most max_length ids, the end token
  // always kept when truncating (max_length 1 gives {end}, 0 gives {}). As in Hugging Face
  // tokenizers, a literal "<|endoftext|>" in the text, and "<|startoftext|>" after normalisation
  // (any case), become the special ids. Invalid UTF-8 is read with U+FFFD for each bad sequence.
  std::vector<std::int32_t> encode(std::string_view utf8_text, std::size_t max_length = 77) const;

  std::int32_t start_token() const { return start_token_; }  // <|startoftext|> (49406)
  std::int32_t end_token() const { return end_token_; }      // <|endoftext|> (49407)
  std::size_t vocab_size() const { return vocab_size_; }

 private:
  struct Merge {
    std::int32_t rank = 0;
    std::int32_t new_id = 0;
  };
  class WordCache;

  ClipTokenizer();

  // Appends the BPE ids of one pre-tokenised word (normalised UTF-8, not yet byte-mapped).
  void append_word(std::string_view word, std::vector<std::int32_t>& ids) const;
  std::vector<std::int32_t> bpe(std::string_view word) const;
  // Appends the ids of text that holds no "<|endoftext|>", stopping once ids has `limit` entries.
  void append_segment(std::string_view raw, std::vector<std::int32_t>& ids,
                      std::size_t limit) const;

  static std::uint64_t pair_key(std::int32_t left, std::int32_t right) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) |
           static_cast<std::uint32_t>(right);
  }

  std::array<std::int32_t, 256> byte_ids_{};         // id of each byte's alphabet character
  std::array<std::int32_t, 256> byte_end_ids_{};     // the same character with "</w>" (word end)
  std::unordered_map<std::uint64_t, Merge> merges_;  // pair_key(left, right) → rank, merged id
  std::size_t vocab_size_ = 0;
  std::int32_t start_token_ = 0;
  std::int32_t end_token_ = 0;
  std::unique_ptr<WordCache> cache_;  // word → ids, shared by all threads under a mutex
};

}  // namespace lookalike::clip
