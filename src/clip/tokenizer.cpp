#include "clip/tokenizer.h"

#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <utility>

#include "clip/unicode_text.h"
#include "core/file_util.h"

namespace lookalike::clip {
namespace {

constexpr std::string_view kStartText = "<|startoftext|>";
constexpr std::string_view kEndText = "<|endoftext|>";
constexpr std::string_view kEndOfWord = "</w>";
constexpr std::size_t kMaxCachedWordBytes = 64;
constexpr std::size_t kMaxCachedWords = 10000;

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const {
    return std::hash<std::string_view>{}(text);
  }
};

using Vocab = std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>>;

Result<Vocab> read_vocab(const std::filesystem::path& path) {
  auto json = read_json_file(path);
  if (!json) return json.error();
  if (!json->is_object() || json->empty()) {
    return make_error(ErrorCode::kCorruptData,
                      path.string() + ": expected a non-empty JSON object of token → id");
  }
  Vocab vocab;
  vocab.reserve(json->size());
  for (const auto& [token, id] : json->items()) {
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0 ||
        id.get<std::int64_t>() > std::numeric_limits<std::int32_t>::max()) {
      return make_error(ErrorCode::kCorruptData,
                        path.string() + ": token \"" + token + "\" has no valid integer id");
    }
    vocab[token] = static_cast<std::int32_t>(id.get<std::int64_t>());
  }
  return vocab;
}

std::optional<std::int32_t> find_id(const Vocab& vocab, std::string_view token) {
  const auto it = vocab.find(token);
  if (it == vocab.end()) return std::nullopt;
  return it->second;
}

}  // namespace

// Words already split into ids. Bounded: emptied when full, which keeps it simple and O(1).
class ClipTokenizer::WordCache {
 public:
  std::optional<std::vector<std::int32_t>> find(std::string_view word) {
    std::lock_guard lock(mutex_);
    const auto it = words_.find(word);
    if (it == words_.end()) return std::nullopt;
    return it->second;
  }
  void insert(std::string_view word, const std::vector<std::int32_t>& ids) {
    std::lock_guard lock(mutex_);
    if (words_.size() >= kMaxCachedWords) words_.clear();
    words_.emplace(std::string(word), ids);
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::vector<std::int32_t>, StringHash, std::equal_to<>> words_;
};

ClipTokenizer::ClipTokenizer() : cache_(std::make_unique<WordCache>()) {}
ClipTokenizer::ClipTokenizer(ClipTokenizer&&) noexcept = default;
ClipTokenizer& ClipTokenizer::operator=(ClipTokenizer&&) noexcept = default;
ClipTokenizer::~ClipTokenizer() = default;

Result<ClipTokenizer> ClipTokenizer::load(const std::filesystem::path& model_dir) {
  const auto vocab_path = model_dir / "vocab.json";
  auto vocab = read_vocab(vocab_path);
  if (!vocab) return vocab.error();

  ClipTokenizer tokenizer;
  tokenizer.vocab_size_ = vocab->size();
  const auto start = find_id(*vocab, kStartText);
  const auto end = find_id(*vocab, kEndText);
  if (!start || !end) {
    return make_error(ErrorCode::kCorruptData, vocab_path.string() + ": lacks " +
                                                   std::string(start ? kEndText : kStartText));
  }
  tokenizer.start_token_ = *start;
  tokenizer.end_token_ = *end;
  // Every byte's alphabet character should be in the vocabulary; one that is not becomes the
  // unknown token, which tokenizer.json sets to <|endoftext|>.
  constexpr auto kAlphabet = byte_to_unicode_table();
  for (std::size_t byte = 0; byte < 256; ++byte) {
    const std::string symbol = utf8_encode(kAlphabet[byte]);
    tokenizer.byte_ids_[byte] = find_id(*vocab, symbol).value_or(*end);
    tokenizer.byte_end_ids_[byte] =
        find_id(*vocab, symbol + std::string(kEndOfWord)).value_or(*end);
  }

  const auto merges_path = model_dir / "merges.txt";
  auto text = read_file(merges_path);
  if (!text) return text.error();
  std::string_view rest = *text;
  std::size_t line_number = 0;
  std::int32_t rank = 0;
  while (!rest.empty()) {
    const std::size_t newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.starts_with("#version")) continue;
    auto corrupt = [&](const std::string& why) {
      return make_error(ErrorCode::kCorruptData,
                        merges_path.string() + ":" + std::to_string(line_number) + ": " + why);
    };
    const std::size_t space = line.find(' ');
    if (space == 0 || space == std::string_view::npos || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string_view::npos) {
      return corrupt("expected two tokens separated by one space");
    }
    const std::string_view left = line.substr(0, space);
    const std::string_view right = line.substr(space + 1);
    const auto left_id = find_id(*vocab, left);
    const auto right_id = find_id(*vocab, right);
    const auto merged_id = find_id(*vocab, std::string(left) + std::string(right));
    if (!left_id || !right_id || !merged_id) {
      return corrupt("a token of this merge is not in vocab.json");
    }
    // As in Hugging Face tokenizers, a repeated pair keeps its last rank.
    tokenizer.merges_[pair_key(*left_id, *right_id)] = Merge{rank++, *merged_id};
  }
  if (tokenizer.merges_.empty())
    return make_error(ErrorCode::kCorruptData, merges_path.string() + ": no merges");
  return tokenizer;
}

std::vector<std::int32_t> ClipTokenizer::encode(std::string_view utf8_text,
                                                std::size_t max_length) const {
  if (max_length == 0) return {};
  if (max_length == 1) return {end_token_};
  const std::size_t limit = max_length - 1;  // room for everything before the final end token
  std::vector<std::int32_t> ids{start_token_};
  // <|endoftext|> is an added token that tokenizer.json does not normalise: it is matched in the
  // raw text, and each piece between is normalised on its own.
  std::size_t pos = 0;
  while (ids.size() < limit) {
    const std::size_t found = utf8_text.find(kEndText, pos);
    append_segment(utf8_text.substr(pos, found - pos), ids, limit);
    if (found == std::string_view::npos) break;
    if (ids.size() < limit) ids.push_back(end_token_);
    pos = found + kEndText.size();
  }
  ids.push_back(end_token_);
  return ids;
}

void ClipTokenizer::append_segment(std::string_view raw, std::vector<std::int32_t>& ids,
                                   std::size_t limit) const {
  const std::string normalized = normalize_clip_text(raw);
  // <|startoftext|> is an added token matched after normalisation (so in any case).
  std::string_view rest = normalized;
  while (ids.size() < limit) {
    const std::size_t found = rest.find(kStartText);
    for (std::string_view word : split_clip_words(rest.substr(0, found))) {
      append_word(word, ids);
      if (ids.size() >= limit) {
        ids.resize(limit);
        return;
      }
    }
    if (found == std::string_view::npos) return;
    ids.push_back(start_token_);
    rest.remove_prefix(found + kStartText.size());
  }
}

void ClipTokenizer::append_word(std::string_view word, std::vector<std::int32_t>& ids) const {
  const bool cacheable = word.size() <= kMaxCachedWordBytes;
  if (cacheable) {
    if (auto cached = cache_->find(word)) {
      ids.insert(ids.end(), cached->begin(), cached->end());
      return;
    }
  }
  const std::vector<std::int32_t> word_ids = bpe(word);
  if (cacheable) cache_->insert(word, word_ids);
  ids.insert(ids.end(), word_ids.begin(), word_ids.end());
}

// The merge loop of Hugging Face tokenizers (bpe/word.rs, merge_all without dropout): a queue of
// candidate pairs, lowest rank first and leftmost on ties, stale entries skipped. O(n log n).
std::vector<std::int32_t> ClipTokenizer::bpe(std::string_view word) const {
  struct Symbol {
    std::int32_t id;
    std::int32_t prev;
    std::int32_t next;  // -1 past the last symbol
    bool alive;
  };
  struct Candidate {
    std::int32_t rank;
    std::int32_t pos;
    std::int32_t new_id;
  };
  const auto n = static_cast<std::int32_t>(word.size());
  std::vector<Symbol> symbols(word.size());
  for (std::int32_t i = 0; i < n; ++i) {
    const auto byte = static_cast<unsigned char>(word[static_cast<std::size_t>(i)]);
    symbols[static_cast<std::size_t>(i)] = Symbol{
        i + 1 == n ? byte_end_ids_[byte] : byte_ids_[byte], i - 1, i + 1 == n ? -1 : i + 1, true};
  }
  auto later = [](const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(later)> queue(later);
  auto push_pair = [&](std::int32_t pos) {
    const Symbol& left = symbols[static_cast<std::size_t>(pos)];
    if (left.next < 0) return;
    const auto it =
        merges_.find(pair_key(left.id, symbols[static_cast<std::size_t>(left.next)].id));
    if (it != merges_.end()) queue.push(Candidate{it->second.rank, pos, it->second.new_id});
  };
  for (std::int32_t i = 0; i + 1 < n; ++i) push_pair(i);

  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& current = symbols[static_cast<std::size_t>(top.pos)];
    if (!current.alive || current.next < 0) continue;
    Symbol& right = symbols[static_cast<std::size_t>(current.next)];
    // Skip an entry made stale by an earlier merge (the pair here no longer gives new_id).
    const auto it = merges_.find(pair_key(current.id, right.id));
    if (it == merges_.end() || it->second.new_id != top.new_id) continue;
    current.id = top.new_id;
    current.next = right.next;
    right.alive = false;
    if (current.next >= 0) symbols[static_cast<std::size_t>(current.next)].prev = top.pos;
    if (current.prev >= 0) push_pair(current.prev);
    push_pair(top.pos);
  }

  std::vector<std::int32_t> ids;
  for (std::int32_t i = n > 0 ? 0 : -1; i >= 0; i = symbols[static_cast<std::size_t>(i)].next) {
    ids.push_back(symbols[static_cast<std::size_t>(i)].id);
  }
  return ids;
}

}  // namespace lookalike::clip
