// Parses prices written by people ("19.99", "1 299,5", "0") into exact integer cents, so a
// DECIMAL(10,2) never passes through binary floating point.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/result.h"

namespace lookalike::ingest {

// "" → nullopt. Accepts an optional sign, digits with optional spaces/'_' as thousands separators,
// and '.' or ',' before at most two decimals. Anything else, or over 10 digits → kInvalidArgument.
Result<std::optional<std::int64_t>> parse_price_cents(std::string_view text);

}  // namespace lookalike::ingest
