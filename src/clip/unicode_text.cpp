#include "clip/unicode_text.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include <array>
#include <cassert>

namespace lookalike::clip {
namespace {

enum class CharClass { kSpace, kLetter, kNumber, kOther };

bool is_space(UChar32 c) { return u_hasBinaryProperty(c, UCHAR_WHITE_SPACE) != 0; }

CharClass classify(UChar32 c) {
  if (is_space(c)) return CharClass::kSpace;
  const auto mask = U_GET_GC_MASK(c);
  if ((mask & U_GC_L_MASK) != 0) return CharClass::kLetter;
  if ((mask & U_GC_N_MASK) != 0) return CharClass::kNumber;
  return CharClass::kOther;
}

// Appends the full lowercase mapping of one code point, computed without context (so no final
// sigma), as Rust's char::to_lowercase does.
void append_lowercase(UChar32 c, icu::UnicodeString& out) {
  if (c < 0x80) {
    out.append(static_cast<UChar32>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c));
    return;
  }
  std::array<UChar, 2> source{};
  int32_t source_length = 0;
  U16_APPEND_UNSAFE(source.data(), source_length, c);
  std::array<UChar, 8> lowered{};  // full mappings are at most 3 code points
  UErrorCode status = U_ZERO_ERROR;
  const int32_t length = u_strToLower(lowered.data(), static_cast<int32_t>(lowered.size()),
                                      source.data(), source_length, /*locale=root*/ "", &status);
  if (U_FAILURE(status) || length > static_cast<int32_t>(lowered.size())) {
    out.append(c);  // cannot happen with Unicode's data; keep the character rather than lose it
    return;
  }
  out.append(lowered.data(), length);
}

bool starts_with_at(std::string_view text, std::size_t pos, std::string_view prefix) {
  return text.substr(pos, prefix.size()) == prefix;
}

// Length of the contraction ('s 't 're 've 'm 'll 'd) starting at `pos`, or 0.
std::size_t contraction_length(std::string_view text, std::size_t pos) {
  if (text[pos] != '\'') return 0;
  for (std::string_view suffix : {"s", "t", "re", "ve", "m", "ll", "d"}) {
    if (starts_with_at(text, pos + 1, suffix)) return 1 + suffix.size();
  }
  return 0;
}

}  // namespace

std::string utf8_encode(char32_t code_point) {
  assert(code_point <= 0x10FFFF && (code_point < 0xD800 || code_point > 0xDFFF));
  std::array<char, 4> buffer{};
  int32_t length = 0;
  U8_APPEND_UNSAFE(reinterpret_cast<uint8_t*>(buffer.data()), length,
                   static_cast<UChar32>(code_point));
  return std::string(buffer.data(), static_cast<std::size_t>(length));
}

std::string normalize_clip_text(std::string_view utf8) {
  // fromUTF8 substitutes U+FFFD for each maximal ill-formed subsequence.
  const icu::UnicodeString source = icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  icu::UnicodeString composed;
  if (U_SUCCESS(status)) composed = nfc->normalize(source, status);
  if (U_FAILURE(status)) composed = source;  // ICU data missing: better unnormalised than nothing

  icu::UnicodeString result;
  bool pending_space = false;
  for (int32_t i = 0; i < composed.length();) {
    const UChar32 c = composed.char32At(i);
    i += U16_LENGTH(c);
    if (is_space(c)) {
      pending_space = true;
      continue;
    }
    if (pending_space && !result.isEmpty()) result.append(static_cast<UChar>(' '));
    pending_space = false;
    append_lowercase(c, result);
  }
  std::string out;
  result.toUTF8String(out);
  return out;
}

std::vector<std::string_view> split_clip_words(std::string_view text) {
  static constexpr std::string_view kStart = "<|startoftext|>";
  static constexpr std::string_view kEnd = "<|endoftext|>";
  std::vector<std::string_view> words;
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const auto length = static_cast<int32_t>(text.size());
  // Decodes the code point at `pos` and its class; `next` gets the position after it.
  auto class_at = [&](int32_t pos, int32_t& next) {
    UChar32 c = 0;
    next = pos;
    U8_NEXT(bytes, next, length, c);
    return classify(c < 0 ? 0xFFFD : c);
  };

  int32_t pos = 0;
  while (pos < length) {
    const auto start = static_cast<std::size_t>(pos);
    std::size_t matched = 0;
    if (starts_with_at(text, start, kStart)) {
      matched = kStart.size();
    } else if (starts_with_at(text, start, kEnd)) {
      matched = kEnd.size();
    } else {
      matched = contraction_length(text, start);
    }
    if (matched > 0) {
      words.push_back(text.substr(start, matched));
      pos += static_cast<int32_t>(matched);
      continue;
    }
    int32_t next = 0;
    const CharClass kind = class_at(pos, next);
    if (kind == CharClass::kSpace) {
      pos = next;
      continue;
    }
    if (kind != CharClass::kNumber) {  // letters and "other" both extend greedily over their class
      int32_t after = 0;
      while (next < length && class_at(next, after) == kind) next = after;
    }
    words.push_back(text.substr(start, static_cast<std::size_t>(next) - start));
    pos = next;
  }
  return words;
}

}  // namespace lookalike::clip
