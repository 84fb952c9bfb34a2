// Checks and encodings every Catalog backend shares, so that SQLite and PostgreSQL accept exactly
// the same records and store vectors and timestamps the same way.
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/product.h"
#include "core/result.h"

namespace lookalike::catalog {

inline constexpr std::size_t kMaxExternalIdBytes = 255;
inline constexpr std::size_t kMaxTitleBytes = 500;
inline constexpr std::size_t kMaxCategoryBytes = 100;
inline constexpr std::size_t kMaxCurrencyBytes = 10;
inline constexpr std::size_t kMaxFingerprintBytes = 255;
inline constexpr std::size_t kMaxEmbeddingDim = 65536;

bool is_valid_utf8(std::string_view text);
// 64 lowercase hex digits.
bool is_sha256_hex(std::string_view text);

// The editable fields of a product (id and timestamps are ignored): kInvalidArgument naming the
// field, e.g. "title: must not be empty".
Status validate_product(const Product& product);
// An image's stored fields (id, product_id, position and created_at are ignored): path, url and a
// lowercase hex sha256 are required; sizes are not negative; text is UTF-8.
Status validate_image(const ProductImage& image);
// sha256, a non-empty fingerprint and a non-empty vector of finite floats.
Status validate_embedding(const Embedding& embedding);
// The product, each image (positions >= 1 and distinct) and each embedding of one write.
Status validate_product_write(const ProductWrite& write);

// "2026-11-24T10:00:00Z" (UTC, whole seconds).
std::string format_utc_timestamp(std::chrono::system_clock::time_point time);
std::string now_utc_timestamp();

// Vectors are stored as float32 little-endian bytes (4 * dim), on every host.
std::string encode_vector(std::span<const float> vector);
// kCorruptData unless `bytes` holds exactly `dim` floats.
Result<std::vector<float>> decode_vector(std::string_view bytes, std::int64_t dim);

}  // namespace lookalike::catalog
