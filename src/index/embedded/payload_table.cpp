#include "index/embedded/payload_table.h"

namespace lookalike::index::embedded {

void PayloadTable::resize(std::size_t size) {
  image_id_.resize(size, 0);
  product_id_.resize(size, 0);
  category_.resize(size, kNoCategory);
  price_.resize(size, kNoPrice);
  alive_.resize(size, 0);
}

void PayloadTable::clear() { *this = PayloadTable(); }

std::int32_t PayloadTable::intern(const std::string& category) {
  if (category.empty()) return kNoCategory;
  auto [it, inserted] =
      category_ids_.emplace(category, static_cast<std::int32_t>(categories_.size()));
  if (inserted) {
    categories_.push_back(category);
    alive_per_category_.push_back(0);
  }
  return it->second;
}

void PayloadTable::set(std::uint32_t slot, std::int64_t image_id, const PointPayload& payload,
                       std::int32_t category) {
  image_id_[slot] = image_id;
  product_id_[slot] = payload.product_id;
  category_[slot] = category;
  price_[slot] = payload.price_cents.value_or(kNoPrice);
  if (!alive_[slot]) {
    alive_[slot] = 1;
    ++alive_count_;
    if (category >= 0) ++alive_per_category_[category];
  }
}

void PayloadTable::kill(std::uint32_t slot) {
  if (!alive_[slot]) return;
  alive_[slot] = 0;
  --alive_count_;
  if (category_[slot] >= 0) --alive_per_category_[category_[slot]];
}

PayloadTable PayloadTable::with_categories_only() const {
  PayloadTable table;
  table.categories_ = categories_;
  table.category_ids_ = category_ids_;
  table.alive_per_category_.assign(categories_.size(), 0);
  return table;
}

void PayloadTable::copy_slot(const PayloadTable& from, std::uint32_t from_slot,
                             std::uint32_t to_slot) {
  image_id_[to_slot] = from.image_id_[from_slot];
  product_id_[to_slot] = from.product_id_[from_slot];
  category_[to_slot] = from.category_[from_slot];
  price_[to_slot] = from.price_[from_slot];
  if (!alive_[to_slot] && from.alive_[from_slot]) {
    alive_[to_slot] = 1;
    ++alive_count_;
    if (category_[to_slot] >= 0) ++alive_per_category_[category_[to_slot]];
  }
}

CompiledFilter PayloadTable::compile(const SearchFilter& filter) const {
  CompiledFilter compiled;
  if (!filter.category.empty()) {
    auto it = category_ids_.find(filter.category);
    if (it == category_ids_.end()) {
      compiled.matches_nothing = true;
    } else {
      compiled.category = it->second;
    }
  }
  if (filter.min_price_cents || filter.max_price_cents) {
    compiled.has_price = true;
    if (filter.min_price_cents) compiled.min_price = *filter.min_price_cents;
    if (filter.max_price_cents) compiled.max_price = *filter.max_price_cents;
    if (compiled.min_price > compiled.max_price) compiled.matches_nothing = true;
  }
  return compiled;
}

PayloadTable::MatchCount PayloadTable::count_matches(const CompiledFilter& filter,
                                                     std::int64_t stop_at) const {
  MatchCount result;
  if (filter.matches_nothing || alive_count_ == 0) {
    result.selectivity = 0;
    return result;
  }
  if (!filter.has_price) {
    result.count = filter.category >= 0 ? alive_per_category_[filter.category] : alive_count_;
    result.selectivity = static_cast<double>(result.count) / static_cast<double>(alive_count_);
    return result;
  }
  std::int64_t alive_seen = 0;
  const std::size_t n = size();
  for (std::size_t slot = 0; slot < n; ++slot) {
    alive_seen += alive_[slot];
    if (matches(static_cast<std::uint32_t>(slot), filter) && ++result.count >= stop_at &&
        slot + 1 < n) {
      result.stopped_early = true;
      break;
    }
  }
  result.selectivity = static_cast<double>(result.count) /
                       static_cast<double>(std::max<std::int64_t>(alive_seen, 1));
  return result;
}

void PayloadTable::write(ByteWriter& out) const {
  out.put<std::uint32_t>(static_cast<std::uint32_t>(categories_.size()));
  for (const auto& name : categories_) out.put_string(name);
  out.put_array(image_id_);
  out.put_array(product_id_);
  out.put_array(category_);
  out.put_array(price_);
  out.put_array(alive_);
}

Result<PayloadTable> PayloadTable::read(ByteReader& in, std::size_t slots,
                                        const std::string& what) {
  auto corrupt = [&](const std::string& why) {
    return make_error(ErrorCode::kCorruptData, what + ": payload table: " + why);
  };
  PayloadTable table;
  std::uint32_t category_count = 0;
  if (!in.get(category_count) || category_count > in.remaining()) return corrupt("truncated");
  for (std::uint32_t i = 0; i < category_count; ++i) {
    std::string name;
    if (!in.get_string(name)) return corrupt("truncated category names");
    if (name.empty() || table.intern(name) != static_cast<std::int32_t>(i)) {
      return corrupt("invalid category names");
    }
  }
  std::vector<std::uint8_t> alive;
  if (!in.get_array(table.image_id_, slots) || !in.get_array(table.product_id_, slots) ||
      !in.get_array(table.category_, slots) || !in.get_array(table.price_, slots) ||
      !in.get_array(alive, slots)) {
    return corrupt("truncated columns");
  }
  table.alive_.assign(slots, 0);
  for (std::size_t slot = 0; slot < slots; ++slot) {
    const std::int32_t category = table.category_[slot];
    if (category < kNoCategory || category >= static_cast<std::int32_t>(category_count) ||
        alive[slot] > 1 || (alive[slot] && table.image_id_[slot] <= 0)) {
      return corrupt("invalid entry at slot " + std::to_string(slot));
    }
    if (alive[slot]) {
      table.alive_[slot] = 1;
      ++table.alive_count_;
      if (category >= 0) ++table.alive_per_category_[category];
    }
  }
  return table;
}

}  // namespace lookalike::index::embedded
