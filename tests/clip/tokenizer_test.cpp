// Unit tests of ClipTokenizer and its text helpers: normalisation, the split regex, the byte
// alphabet, BPE merge order on a tiny vocabulary, truncation, odd input and load errors.
#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "clip/tokenizer.h"
#include "clip/unicode_text.h"
#include "test_support.h"

namespace lookalike::clip {
namespace {

using Ids = std::vector<std::int32_t>;
using Words = std::vector<std::string_view>;

constexpr std::int32_t kStart = 49406;
constexpr std::int32_t kEnd = 49407;

const ClipTokenizer& real_tokenizer() {
  static const ClipTokenizer tokenizer = [] {
    auto loaded = ClipTokenizer::load(testing::vocab_dir());
    if (!loaded) throw std::runtime_error(loaded.error().to_string());
    return std::move(loaded).value();
  }();
  return tokenizer;
}

// --- normalisation ---------------------------------------------------------------------------

TEST(NormalizeClipText, CollapsesEveryWhitespaceRunAndTrims) {
  EXPECT_EQ(normalize_clip_text("  multiple     spaces\tand\n\r\ttabs  "),
            "multiple spaces and tabs");
  // U+00A0, U+3000 and U+2028 are Unicode White_Space; U+200B (zero width space) is not.
  EXPECT_EQ(normalize_clip_text("a\u00a0b\u3000\u2028c"), "a b c");
  EXPECT_EQ(normalize_clip_text("a\u200bb"), "a\u200bb");
  EXPECT_EQ(normalize_clip_text(" \t\n "), "");
  EXPECT_EQ(normalize_clip_text(""), "");
}

TEST(NormalizeClipText, LowercasesWithFullContextFreeMapping) {
  EXPECT_EQ(normalize_clip_text("MiXeD CaSe QuErY"), "mixed case query");
  EXPECT_EQ(normalize_clip_text("ΑΒΓ Ёлка ÅNGSTRÖM"), "αβγ ёлка ångström");
  EXPECT_EQ(normalize_clip_text("İ"), "i\u0307");  // full mapping: two code points
  EXPECT_EQ(normalize_clip_text("ΟΔΟΣ"), "οδοσ");  // per character: no final sigma
  EXPECT_EQ(normalize_clip_text("ẞ ǅ"), "ß ǆ");
}

TEST(NormalizeClipText, ComposesToNfc) {
  EXPECT_EQ(normalize_clip_text("e\u0301te\u0301"), "\u00e9t\u00e9");
  EXPECT_EQ(normalize_clip_text("\u212b"), "\u00e5");  // angstrom sign → Å → å
}

TEST(NormalizeClipText, ReplacesInvalidUtf8WithReplacementCharacter) {
  EXPECT_EQ(normalize_clip_text("a\xff"
                                "b"),
            "a\ufffd"
            "b");
  EXPECT_EQ(normalize_clip_text("\xe2\x82"), "\ufffd");  // truncated sequence: one U+FFFD
  EXPECT_EQ(normalize_clip_text(std::string("x\0y", 3)), std::string("x\0y", 3));
}

// --- the split regex -------------------------------------------------------------------------

TEST(SplitClipWords, SeparatesContractions) {
  EXPECT_EQ(split_clip_words("don't we'll i'm they've you'd it's x're"),
            (Words{"don", "'t", "we", "'ll", "i", "'m", "they", "'ve", "you", "'d", "it", "'s", "x",
                   "'re"}));
  // Leftmost-first: at the first quote no contraction matches, so the punctuation run takes both.
  EXPECT_EQ(split_clip_words("''s kids'"), (Words{"''", "s", "kids", "'"}));
}

TEST(SplitClipWords, SplitsDigitsOneByOne) {
  EXPECT_EQ(split_clip_words("abc123 4"), (Words{"abc", "1", "2", "3", "4"}));
  EXPECT_EQ(split_clip_words("\u0663\u0664"), (Words{"\u0663", "\u0664"}));  // Arabic-Indic
  EXPECT_EQ(split_clip_words("256gb"), (Words{"2", "5", "6", "gb"}));
}

TEST(SplitClipWords, KeepsPunctuationAndSymbolRunsTogether) {
  EXPECT_EQ(split_clip_words("hello...world!! c++"),
            (Words{"hello", "...", "world", "!!", "c", "++"}));
  EXPECT_EQ(split_clip_words("(-20%)"), (Words{"(-", "2", "0", "%)"}));
  EXPECT_EQ(split_clip_words("\u2764\ufe0f love"), (Words{"\u2764\ufe0f", "love"}));
  EXPECT_EQ(split_clip_words("q\u0303"), (Words{"q", "\u0303"}));  // a mark is not a letter
  EXPECT_EQ(split_clip_words("красная сумка"), (Words{"красная", "сумка"}));
  EXPECT_EQ(split_clip_words("   "), Words{});
}

TEST(SplitClipWords, MatchesSpecialTokensOnlyWhereAMatchStarts) {
  EXPECT_EQ(split_clip_words("<|startoftext|>x<|endoftext|>"),
            (Words{"<|startoftext|>", "x", "<|endoftext|>"}));
  EXPECT_EQ(split_clip_words("!<|endoftext|>"), (Words{"!<|", "endoftext", "|>"}));
}

// --- the byte alphabet -----------------------------------------------------------------------

TEST(ByteAlphabet, IsABijectionOntoPrintableCharacters) {
  constexpr auto table = byte_to_unicode_table();
  std::set<char32_t> seen(table.begin(), table.end());
  EXPECT_EQ(seen.size(), 256u);
  for (int byte = '!'; byte <= '~'; ++byte) EXPECT_EQ(table[byte], static_cast<char32_t>(byte));
  EXPECT_EQ(table[0xE9], U'\u00e9');
  EXPECT_EQ(table[0], U'\u0100');
  EXPECT_EQ(table[' '], U'\u0120');  // GPT-2's "Ġ"
  EXPECT_EQ(table['\n'], U'\u010a');
  EXPECT_EQ(table[0xAD], U'\u0143');  // the soft hyphen is the last remapped byte
  for (char32_t c : table) EXPECT_TRUE(c > U' ' && c <= U'\u0143');
  EXPECT_EQ(utf8_encode(U'\u0120'), "\xc4\xa0");
  EXPECT_EQ(utf8_encode(U'\U0001F600'), "\xf0\x9f\x98\x80");
}

// --- encoding with the real vocabulary -------------------------------------------------------

TEST(ClipTokenizer, ReportsSpecialTokensAndVocabSize) {
  EXPECT_EQ(real_tokenizer().start_token(), kStart);
  EXPECT_EQ(real_tokenizer().end_token(), kEnd);
  EXPECT_EQ(real_tokenizer().vocab_size(), 49408u);
}

TEST(ClipTokenizer, EmptyTextIsStartAndEnd) {
  EXPECT_EQ(real_tokenizer().encode(""), (Ids{kStart, kEnd}));
  EXPECT_EQ(real_tokenizer().encode(" \t\n "), (Ids{kStart, kEnd}));
}

TEST(ClipTokenizer, IgnoresCaseAndWhitespaceLayout) {
  EXPECT_EQ(real_tokenizer().encode("a photo of a cat"),
            (Ids{kStart, 320, 1125, 539, 320, 2368, kEnd}));
  EXPECT_EQ(real_tokenizer().encode("  A\tPHOTO   of\na Cat "),
            real_tokenizer().encode("a photo of a cat"));
}

TEST(ClipTokenizer, TruncatesKeepingTheEndToken) {
  std::string long_text;
  for (int i = 0; i < 200; ++i) long_text += "a ";
  const Ids ids = real_tokenizer().encode(long_text);
  ASSERT_EQ(ids.size(), 77u);
  EXPECT_EQ(ids.front(), kStart);
  EXPECT_EQ(ids.back(), kEnd);
  EXPECT_TRUE(
      std::all_of(ids.begin() + 1, ids.end() - 1, [](std::int32_t id) { return id == 320; }));
  EXPECT_EQ(real_tokenizer().encode(long_text, 5), (Ids{kStart, 320, 320, 320, kEnd}));
  EXPECT_EQ(real_tokenizer().encode(long_text, 2), (Ids{kStart, kEnd}));
  EXPECT_EQ(real_tokenizer().encode(long_text, 1), (Ids{kEnd}));
  EXPECT_EQ(real_tokenizer().encode(long_text, 0), Ids{});
  // Exactly max_length ids fit without truncation.
  EXPECT_EQ(real_tokenizer().encode("a a a", 5), (Ids{kStart, 320, 320, 320, kEnd}));
}

TEST(ClipTokenizer, InvalidUtf8DoesNotCrash) {
  const Ids ids = real_tokenizer().encode("bad \xff\xfe bytes \xc3");
  EXPECT_EQ(ids, real_tokenizer().encode("bad \ufffd\ufffd bytes \ufffd"));
  EXPECT_EQ(ids.front(), kStart);
  EXPECT_EQ(ids.back(), kEnd);
  EXPECT_GT(ids.size(), 4u);
}

TEST(ClipTokenizer, SpecialTokenTextBecomesSpecialIds) {
  // As Hugging Face tokenizers does: <|endoftext|> matched in the raw text, <|startoftext|> after
  // normalisation (so in any case); a differently cased <|endoftext|> is ordinary text.
  const Ids a = real_tokenizer().encode("a");
  const std::int32_t a_id = a[1];
  EXPECT_EQ(real_tokenizer().encode("a<|endoftext|>a"), (Ids{kStart, a_id, kEnd, a_id, kEnd}));
  EXPECT_EQ(real_tokenizer().encode("A <|STARTOFTEXT|> a"),
            (Ids{kStart, a_id, kStart, a_id, kEnd}));
  EXPECT_GT(real_tokenizer().encode("<|ENDOFTEXT|>").size(), 3u);
}

TEST(ClipTokenizer, IsMovableAndSafeToShareAcrossThreads) {
  static_assert(std::is_nothrow_move_constructible_v<ClipTokenizer>);
  static_assert(std::is_nothrow_move_assignable_v<ClipTokenizer>);
  auto loaded = ClipTokenizer::load(testing::vocab_dir());
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  const ClipTokenizer tokenizer = std::move(loaded).value();
  const std::vector<std::string> texts = {"red leather handbag", "Men's running shoes, size 42",
                                          "красная кожаная сумка", "中文商品标题", "😀 smile"};
  std::vector<Ids> expected;
  for (const auto& text : texts) expected.push_back(real_tokenizer().encode(text));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        for (std::size_t i = 0; i < texts.size(); ++i) {
          if (tokenizer.encode(texts[i]) != expected[i]) ++mismatches[static_cast<std::size_t>(t)];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

// --- a tiny vocabulary: merge order and load errors --------------------------------------------

// Writes a model dir whose vocabulary is the 512 byte symbols, `extra` tokens and the two special
// tokens, with `merges` (one "left right" per line) under a "#version" header.
void write_tiny_model(const std::filesystem::path& dir, const std::vector<std::string>& extra,
                      const std::vector<std::string>& merges) {
  nlohmann::json vocab = nlohmann::json::object();
  constexpr auto table = byte_to_unicode_table();
  std::int32_t next_id = 0;
  for (char32_t c : table) vocab[utf8_encode(c)] = next_id++;
  for (char32_t c : table) vocab[utf8_encode(c) + "</w>"] = next_id++;
  for (const auto& token : extra) vocab[token] = next_id++;
  vocab["<|startoftext|>"] = next_id++;
  vocab["<|endoftext|>"] = next_id++;
  testing::write_bytes(dir / "vocab.json", vocab.dump());
  std::string text = "#version: 0.2\n";
  for (const auto& merge : merges) text += merge + "\n";
  testing::write_bytes(dir / "merges.txt", text);
}

TEST(ClipTokenizerTiny, MergesByRankThenLeftmost) {
  testing::TempDir dir;
  // Ids: 512 "he", 513 "ll", 514 "hell", 515 "hello</w>", 516 "aa"; start 517, end 518.
  write_tiny_model(dir.path(), {"he", "ll", "hell", "hello</w>", "aa"},
                   {"h e", "l l", "he ll", "hell o</w>", "a a"});
  auto tokenizer = ClipTokenizer::load(dir.path());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.error().to_string();
  EXPECT_EQ(tokenizer->vocab_size(), 519u);
  EXPECT_EQ(tokenizer->start_token(), 517);
  EXPECT_EQ(tokenizer->end_token(), 518);
  EXPECT_EQ(tokenizer->encode("Hello"), (Ids{517, 515, 518}));
  // "a a a</w>": the leftmost pair merges first; "a</w>" (byte 'a' + 256) stays alone.
  EXPECT_EQ(tokenizer->encode("aaa"), (Ids{517, 516, 'a' + 256, 518}));
  // "hel": "h e" then nothing; the last symbol carries </w>.
  EXPECT_EQ(tokenizer->encode("hel"), (Ids{517, 512, 'l' + 256, 518}));
}

TEST(ClipTokenizerLoad, MissingFilesAreNamed) {
  testing::TempDir dir;
  auto no_vocab = ClipTokenizer::load(dir.path());
  ASSERT_FALSE(no_vocab.ok());
  EXPECT_EQ(no_vocab.error().code, ErrorCode::kNotFound);
  EXPECT_NE(no_vocab.error().message.find("vocab.json"), std::string::npos);

  write_tiny_model(dir.path(), {}, {});
  std::filesystem::remove(dir / "merges.txt");
  auto no_merges = ClipTokenizer::load(dir.path());
  ASSERT_FALSE(no_merges.ok());
  EXPECT_EQ(no_merges.error().code, ErrorCode::kNotFound);
  EXPECT_NE(no_merges.error().message.find("merges.txt"), std::string::npos);
}

TEST(ClipTokenizerLoad, CorruptVocabIsRejected) {
  testing::TempDir dir;
  write_tiny_model(dir.path(), {"he"}, {"h e"});
  for (const std::string& bad :
       {std::string("{\"a\": 1,"), std::string("[1, 2]"), std::string("{}"),
        std::string("{\"a\": \"x\"}"), std::string("{\"a\": -1}"), std::string("{\"a\": 1}")}) {
    testing::write_bytes(dir / "vocab.json", bad);
    auto loaded = ClipTokenizer::load(dir.path());
    ASSERT_FALSE(loaded.ok()) << bad;
    EXPECT_EQ(loaded.error().code, ErrorCode::kCorruptData) << bad;
    EXPECT_NE(loaded.error().message.find("vocab.json"), std::string::npos) << bad;
  }
}

TEST(ClipTokenizerLoad, CorruptMergesAreRejectedWithTheLine) {
  testing::TempDir dir;
  for (const std::string& bad : {std::string("h e x"), std::string("he"), std::string("h  e"),
                                 std::string("q z"), std::string(" e")}) {
    write_tiny_model(dir.path(), {"he"}, {"h e", bad});
    auto loaded = ClipTokenizer::load(dir.path());
    ASSERT_FALSE(loaded.ok()) << bad;
    EXPECT_EQ(loaded.error().code, ErrorCode::kCorruptData) << bad;
    EXPECT_NE(loaded.error().message.find("merges.txt:3"), std::string::npos)
        << loaded.error().message;
  }
  write_tiny_model(dir.path(), {"he"}, {});  // only the header: a truncated file
  auto empty = ClipTokenizer::load(dir.path());
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kCorruptData);
  EXPECT_NE(empty.error().message.find("merges.txt"), std::string::npos);
}

}  // namespace
}  // namespace lookalike::clip
