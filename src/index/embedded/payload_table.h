// PayloadTable: what the embedded index knows about each graph slot besides its vector — image
// id, product id, interned category, price, alive flag — as columns, so that filters are
// evaluated per candidate in a few instructions and counted without touching the vectors.
//
// Shapes: every column has size() entries, one per graph slot. external_id and currency of
// PointPayload are not stored (searches never return them).
// Thread-safety: const methods may run concurrently; writers need exclusive access.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "index/embedded/byte_io.h"
#include "index/vector_index.h"

namespace lookalike::index::embedded {

// A SearchFilter with its category resolved to the table's interned id.
struct CompiledFilter {
  bool matches_nothing = false;  // e.g. a category no point has
  std::int32_t category = -1;    // -1: any
  bool has_price = false;        // min/max below apply, points without a price never match
  std::int64_t min_price = std::numeric_limits<std::int64_t>::min();
  std::int64_t max_price = std::numeric_limits<std::int64_t>::max();
  bool any() const { return !matches_nothing && category < 0 && !has_price; }
};

class PayloadTable {
 public:
  static constexpr std::int64_t kNoPrice = std::numeric_limits<std::int64_t>::min();
  static constexpr std::int32_t kNoCategory = -1;

  std::size_t size() const { return image_id_.size(); }
  std::int64_t alive_count() const { return alive_count_; }

  // Grows to `size` slots; new slots are dead until set().
  void resize(std::size_t size);
  void clear();

  // Interned id of a category name (kNoCategory for ""), adding it if new.
  std::int32_t intern(const std::string& category);
  // Makes `slot` alive with this payload (it must be dead).
  void set(std::uint32_t slot, std::int64_t image_id, const PointPayload& payload,
           std::int32_t category);
  void kill(std::uint32_t slot);  // idempotent
  // An empty table with the same interned categories (for compaction)...
  PayloadTable with_categories_only() const;
  // ...into which alive slots of the table it came from are copied.
  void copy_slot(const PayloadTable& from, std::uint32_t from_slot, std::uint32_t to_slot);
  std::int32_t category(std::uint32_t slot) const { return category_[slot]; }

  bool alive(std::uint32_t slot) const { return alive_[slot] != 0; }
  std::int64_t image_id(std::uint32_t slot) const { return image_id_[slot]; }
  std::int64_t product_id(std::uint32_t slot) const { return product_id_[slot]; }

  CompiledFilter compile(const SearchFilter& filter) const;
  // Alive and passing the filter.
  bool matches(std::uint32_t slot, const CompiledFilter& filter) const {
    if (!alive_[slot]) return false;
    if (filter.category >= 0 && category_[slot] != filter.category) return false;
    if (filter.has_price) {
      const std::int64_t price = price_[slot];
      if (price == kNoPrice || price < filter.min_price || price > filter.max_price) return false;
    }
    return true;
  }

  struct MatchCount {
    std::int64_t count = 0;    // exact when !stopped_early, else a lower bound
    double selectivity = 1.0;  // matches / alive (estimated when stopped early)
    bool stopped_early = false;
  };
  // Counts matching points, stopping once `stop_at` are found (O(1) without a price filter).
  MatchCount count_matches(const CompiledFilter& filter, std::int64_t stop_at) const;

  void write(ByteWriter& out) const;
  // Parses what write() wrote for `slots` slots; `what` names the file in errors.
  static Result<PayloadTable> read(ByteReader& in, std::size_t slots, const std::string& what);

 private:
  std::vector<std::int64_t> image_id_;
  std::vector<std::int64_t> product_id_;
  std::vector<std::int32_t> category_;
  std::vector<std::int64_t> price_;
  std::vector<std::uint8_t> alive_;
  std::int64_t alive_count_ = 0;

  std::vector<std::string> categories_;
  std::unordered_map<std::string, std::int32_t> category_ids_;
  std::vector<std::int64_t> alive_per_category_;
};

}  // namespace lookalike::index::embedded
