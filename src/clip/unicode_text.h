// Text helpers of the CLIP tokenizer: the normaliser and pre-tokeniser of Hugging Face's
// tokenizer.json for CLIP, and GPT-2's byte-to-unicode alphabet, kept apart so each is testable.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lookalike::clip {

// The normaliser of tokenizer.json: Unicode NFC, every run of whitespace (Unicode White_Space,
// which is what `\s` means to the Oniguruma regex of HF tokenizers) becomes one space, then each
// code point is lowercased on its own with the full, locale-free Unicode mapping (Rust's
// `char::to_lowercase`: 'İ' → "i̇", 'Σ' → 'σ' everywhere, no final-sigma rule). Leading and
// trailing whitespace is dropped too; the split below drops it anyway, so ids do not change.
// Invalid UTF-8 never fails: each maximal ill-formed subsequence becomes U+FFFD (ICU's rule).
std::string normalize_clip_text(std::string_view utf8);

// Splits normalised text like tokenizer.json's Split pre-tokeniser, the matches of
//   <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
// tried leftmost-first; what no alternative matches (whitespace) is dropped. The views point into
// `normalized`, which must be valid UTF-8 (normalize_clip_text's output is).
std::vector<std::string_view> split_clip_words(std::string_view normalized);

// GPT-2's reversible byte → code point alphabet: the printable Latin-1 bytes map to themselves and
// the other 68 to U+0100.. in byte order, so every byte string becomes printable text for BPE.
constexpr std::array<char32_t, 256> byte_to_unicode_table() {
  std::array<char32_t, 256> table{};
  char32_t next = 256;
  for (int byte = 0; byte < 256; ++byte) {
    const bool printable = (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) ||
                           (byte >= 0xAE && byte <= 0xFF);
    table[static_cast<std::size_t>(byte)] = printable ? static_cast<char32_t>(byte) : next++;
  }
  return table;
}

// The UTF-8 encoding of one code point (valid scalar values only).
std::string utf8_encode(char32_t code_point);

}  // namespace lookalike::clip
