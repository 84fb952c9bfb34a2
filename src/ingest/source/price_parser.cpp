#include "ingest/source/price_parser.h"

#include <string>

#include "catalog/product.h"

namespace lookalike::ingest {

Result<std::optional<std::int64_t>> parse_price_cents(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty()) return std::optional<std::int64_t>();
  auto bad = [&] {
    return make_error(ErrorCode::kInvalidArgument,
                      "price '" + std::string(text) + "' is not a number with at most 2 decimals");
  };
  bool negative = false;
  std::size_t i = 0;
  if (text[i] == '-' || text[i] == '+') negative = text[i++] == '-';
  std::int64_t units = 0;
  int digits = 0;
  for (; i < text.size() && text[i] != '.' && text[i] != ','; ++i) {
    char c = text[i];
    if (c == ' ' || c == '_') continue;
    if (c < '0' || c > '9') return bad();
    if (++digits > 10) return bad();
    units = units * 10 + (c - '0');
  }
  if (digits == 0) return bad();
  std::int64_t cents = 0;
  if (i < text.size()) {
    std::string_view decimals = text.substr(i + 1);
    if (decimals.empty() || decimals.size() > 2) return bad();
    for (char c : decimals) {
      if (c < '0' || c > '9') return bad();
    }
    cents = (decimals[0] - '0') * 10 + (decimals.size() == 2 ? decimals[1] - '0' : 0);
  }
  std::int64_t total = units * 100 + cents;
  if (total > catalog::kMaxPriceCents) {
    return make_error(ErrorCode::kInvalidArgument,
                      "price '" + std::string(text) + "' exceeds DECIMAL(10,2)");
  }
  return std::optional<std::int64_t>(negative ? -total : total);
}

}  // namespace lookalike::ingest
