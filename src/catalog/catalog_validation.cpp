#include "catalog/catalog_validation.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <ctime>
#include <set>

namespace lookalike::catalog {

namespace {

Error invalid(std::string_view field, std::string_view problem) {
  return make_error(ErrorCode::kInvalidArgument, std::string(field) + ": " + std::string(problem));
}

Status check_text(std::string_view field, std::string_view value, bool required,
                  std::size_t max_bytes) {
  if (required && value.empty()) return invalid(field, "must not be empty");
  if (max_bytes != 0 && value.size() > max_bytes) {
    return invalid(field, "is " + std::to_string(value.size()) + " bytes long; at most " +
                              std::to_string(max_bytes) + " are allowed");
  }
  if (!is_valid_utf8(value)) return invalid(field, "is not valid UTF-8");
  // PostgreSQL text cannot hold NUL, and SQLite's C strings would cut at it: refused on both.
  if (value.find('\0') != std::string_view::npos) return invalid(field, "contains a NUL character");
  return ok_status();
}

std::uint32_t byteswap32(std::uint32_t v) {
  return ((v & 0xffU) << 24) | ((v & 0xff00U) << 8) | ((v >> 8) & 0xff00U) | (v >> 24);
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int extra = 0;
    std::uint32_t code = 0;
    std::uint32_t min = 0;
    if ((c & 0xe0) == 0xc0) {
      extra = 1;
      code = c & 0x1f;
      min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      code = c & 0x0f;
      min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      code = c & 0x07;
      min = 0x10000;
    } else {
      return false;
    }
    if (end - p <= extra) return false;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      code = (code << 6) | (p[i] & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
    p += extra + 1;
  }
  return true;
}

bool is_sha256_hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status validate_product(const Product& product) {
  if (auto s = check_text("external_id", product.external_id, true, kMaxExternalIdBytes); !s) {
    return s;
  }
  if (auto s = check_text("title", product.title, true, kMaxTitleBytes); !s) return s;
  if (auto s = check_text("description", product.description, false, 0); !s) return s;
  if (auto s = check_text("category", product.category, false, kMaxCategoryBytes); !s) return s;
  if (auto s = check_text("currency", product.currency, false, kMaxCurrencyBytes); !s) return s;
  if (auto s = check_text("image_url", product.image_url, false, 0); !s) return s;
  if (product.price_cents &&
      (*product.price_cents > kMaxPriceCents || *product.price_cents < -kMaxPriceCents)) {
    return invalid("price_cents", std::to_string(*product.price_cents) +
                                      " does not fit DECIMAL(10,2) (at most " +
                                      std::to_string(kMaxPriceCents) + " cents either way)");
  }
  if (!product.metadata.is_object()) {
    return invalid("metadata",
                   std::string("must be a JSON object, not ") + product.metadata.type_name());
  }
  try {
    (void)product.metadata.dump();  // throws on strings that are not UTF-8
  } catch (const std::exception& e) {
    return invalid("metadata", std::string("cannot be stored as JSON: ") + e.what());
  }
  return ok_status();
}

Status validate_image(const ProductImage& image) {
  if (auto s = check_text("image.path", image.path, true, 0); !s) return s;
  if (auto s = check_text("image.url", image.url, true, 0); !s) return s;
  if (auto s = check_text("image.source", image.source, false, 0); !s) return s;
  if (auto s = check_text("image.format", image.format, false, 0); !s) return s;
  if (auto s = check_text("image.etag", image.etag, false, 0); !s) return s;
  if (!is_sha256_hex(image.sha256)) {
    return invalid("image.sha256",
                   "must be 64 lowercase hex digits, got \"" + image.sha256.substr(0, 80) + "\"");
  }
  if (image.size_bytes < 0) return invalid("image.size_bytes", "must not be negative");
  if (image.width < 0 || image.height < 0) {
    return invalid("image.width/height", "must not be negative");
  }
  return ok_status();
}

Status validate_embedding(const Embedding& embedding) {
  if (!is_sha256_hex(embedding.sha256)) {
    return invalid("embedding.sha256", "must be 64 lowercase hex digits, got \"" +
                                           embedding.sha256.substr(0, 80) + "\"");
  }
  if (auto s =
          check_text("embedding.fingerprint", embedding.fingerprint, true, kMaxFingerprintBytes);
      !s) {
    return s;
  }
  if (embedding.vector.empty()) return invalid("embedding.vector", "must not be empty");
  if (embedding.vector.size() > kMaxEmbeddingDim) {
    return invalid("embedding.vector", "has " + std::to_string(embedding.vector.size()) +
                                           " dimensions; at most " +
                                           std::to_string(kMaxEmbeddingDim) + " are allowed");
  }
  for (float v : embedding.vector) {
    if (!std::isfinite(v)) return invalid("embedding.vector", "holds a NaN or infinite value");
  }
  return ok_status();
}

Status validate_product_write(const ProductWrite& write) {
  if (auto s = validate_product(write.product); !s) return s;
  std::set<int> positions;
  for (const auto& image : write.images) {
    if (image.position < 1) {
      return invalid("image.position", "must be at least 1, got " + std::to_string(image.position));
    }
    if (!positions.insert(image.position).second) {
      return invalid("image.position", std::to_string(image.position) + " appears twice");
    }
    if (auto s = validate_image(image); !s) return s;
  }
  for (const auto& embedding : write.embeddings) {
    if (auto s = validate_embedding(embedding); !s) return s;
  }
  return ok_status();
}

std::string format_utc_timestamp(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return std::string(buffer, n);
}

std::string now_utc_timestamp() { return format_utc_timestamp(std::chrono::system_clock::now()); }

std::string encode_vector(std::span<const float> vector) {
  std::string bytes(vector.size() * sizeof(float), '\0');
  if constexpr (std::endian::native == std::endian::little) {
    if (!vector.empty()) std::memcpy(bytes.data(), vector.data(), bytes.size());
  } else {
    for (std::size_t i = 0; i < vector.size(); ++i) {
      std::uint32_t v = byteswap32(std::bit_cast<std::uint32_t>(vector[i]));
      std::memcpy(bytes.data() + i * sizeof(float), &v, sizeof v);
    }
  }
  return bytes;
}

Result<std::vector<float>> decode_vector(std::string_view bytes, std::int64_t dim) {
  if (dim < 0 || bytes.size() != static_cast<std::size_t>(dim) * sizeof(float)) {
    return make_error(ErrorCode::kCorruptData, "stored vector has " + std::to_string(bytes.size()) +
                                                   " bytes but dim " + std::to_string(dim) +
                                                   " needs " + std::to_string(dim * 4));
  }
  std::vector<float> vector(static_cast<std::size_t>(dim));
  if constexpr (std::endian::native == std::endian::little) {
    if (!vector.empty()) std::memcpy(vector.data(), bytes.data(), bytes.size());
  } else {
    for (std::size_t i = 0; i < vector.size(); ++i) {
      std::uint32_t v;
      std::memcpy(&v, bytes.data() + i * sizeof(float), sizeof v);
      vector[i] = std::bit_cast<float>(byteswap32(v));
    }
  }
  return vector;
}

}  // namespace lookalike::catalog
