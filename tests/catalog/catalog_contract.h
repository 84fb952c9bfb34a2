// The contract every Catalog backend must honour, as value-parameterised GoogleTests: each
// backend's test file includes this header once and instantiates CatalogContractTest with a
// CatalogBackend whose open_fresh() returns a new, empty catalogue for every test.
// Thread-safety: tests only; the concurrency test drives one catalogue from four threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "catalog/catalog.h"

namespace lookalike::catalog::contract {

struct CatalogBackend {
  std::string name;  // shown in test names: "sqlite", "postgresql"
  // A new, empty catalogue, or nullptr (after recording why) when the backend cannot be opened:
  // the test then fails without running its body.
  std::function<std::unique_ptr<lookalike::catalog::Catalog>()> open_fresh;
};

// gtest prints the parameter in failure messages.
inline void PrintTo(const CatalogBackend& backend, std::ostream* out) { *out << backend.name; }

inline std::string backend_test_name(const ::testing::TestParamInfo<CatalogBackend>& info) {
  return info.param.name;
}

#define CONTRACT_ASSERT_OK(expr)                                                                 \
  do {                                                                                           \
    const auto& contract_result_ = (expr);                                                       \
    ASSERT_TRUE(contract_result_.ok()) << #expr << ": " << contract_result_.error().to_string(); \
  } while (false)

#define CONTRACT_EXPECT_ERROR(expr, expected_code)                                            \
  do {                                                                                        \
    const auto& contract_result_ = (expr);                                                    \
    ASSERT_FALSE(contract_result_.ok()) << #expr << " succeeded";                             \
    EXPECT_EQ(error_code_name(contract_result_.error().code), error_code_name(expected_code)) \
        << #expr << ": " << contract_result_.error().to_string();                             \
  } while (false)

// --- fixtures for records -----------------------------------------------------------------------

// A valid sha256 (64 lowercase hex digits) whose order follows n.
inline std::string sha_of(int n) {
  char buffer[65];
  std::snprintf(buffer, sizeof buffer, "%064x", static_cast<unsigned>(n));
  return std::string(buffer, 64);
}

inline Product make_product(const std::string& external_id) {
  Product product;
  product.external_id = external_id;
  product.title = "Title of " + external_id;
  product.description = "A description of " + external_id;
  product.category = "shoes";
  product.price_cents = 1999;
  product.currency = "USD";
  product.image_url = "/images/" + external_id + "/image_1.jpg";
  product.metadata = {{"brand", "Acme"}, {"sizes", {38, 39, 40}}};
  return product;
}

inline ProductImage make_image(const std::string& dir, int position, const std::string& sha256) {
  ProductImage image;
  image.position = position;
  image.path = dir + "/image_" + std::to_string(position) + ".jpg";
  image.url = "/images/" + image.path;
  image.source = "https://example.com/" + dir + "/" + std::to_string(position) + ".jpg";
  image.sha256 = sha256;
  image.size_bytes = 1000 + position;
  image.width = 640;
  image.height = 480;
  image.format = "jpeg";
  image.etag = "\"etag-" + std::to_string(position) + "\"";
  return image;
}

// Deterministic, non-trivial floats (different for each seed).
inline std::vector<float> make_vector(int seed, int dim = 8) {
  std::vector<float> vector(static_cast<std::size_t>(dim));
  for (int i = 0; i < dim; ++i) {
    vector[static_cast<std::size_t>(i)] =
        std::sin(static_cast<float>(seed * 131 + i) * 0.7f) / static_cast<float>(i + 1);
  }
  return vector;
}

inline Embedding make_embedding(const std::string& sha256, const std::string& fingerprint, int seed,
                                int dim = 8) {
  return Embedding{sha256, fingerprint, make_vector(seed, dim)};
}

inline const std::string kFingerprint = "clip-vit-b32@test";
inline const std::string kOtherFingerprint = "siglip@test";

// A write for `external_id` with `images` images whose bytes are sha_of(first_sha + i), each
// with an embedding under kFingerprint when `with_embeddings`.
inline ProductWrite make_write(const std::string& external_id, int images, int first_sha,
                               bool with_embeddings = true) {
  ProductWrite write;
  write.product = make_product(external_id);
  for (int i = 0; i < images; ++i) {
    write.images.push_back(make_image(external_id, i + 1, sha_of(first_sha + i)));
    if (with_embeddings) {
      write.embeddings.push_back(
          make_embedding(sha_of(first_sha + i), kFingerprint, first_sha + i));
    }
  }
  return write;
}

inline bool bit_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// "YYYY-MM-DDTHH:MM:SS" with optional fractional seconds, then "Z".
inline bool is_iso_utc(const std::string& text) {
  const std::string pattern = "dddd-dd-ddTdd:dd:dd";
  if (text.size() < pattern.size() + 1 || text.back() != 'Z') return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (pattern[i] == 'd' ? !digit : text[i] != pattern[i]) return false;
  }
  std::string rest = text.substr(pattern.size(), text.size() - pattern.size() - 1);
  if (rest.empty()) return true;
  if (rest.size() < 2 || rest[0] != '.') return false;
  return std::all_of(rest.begin() + 1, rest.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// --- the suite ----------------------------------------------------------------------------------

class CatalogContractTest : public ::testing::TestWithParam<CatalogBackend> {
 protected:
  void SetUp() override {
    catalog_ = GetParam().open_fresh();
    // A backend that failed to open has already recorded why; a test body must not run then.
    if (catalog_ == nullptr) GTEST_FAIL() << GetParam().name << " backend could not be opened";
  }

  Catalog& cat() { return *catalog_; }

  Product create(const std::string& external_id) {
    auto product = catalog_->create_product(make_product(external_id));
    EXPECT_TRUE(product.ok()) << product.error().to_string();
    return product.ok() ? *product : Product{};
  }

  Product write_one(const ProductWrite& write) {
    auto stored = catalog_->write_products(std::span<const ProductWrite>(&write, 1));
    EXPECT_TRUE(stored.ok()) << stored.error().to_string();
    return stored.ok() && stored->size() == 1 ? stored->front() : Product{};
  }

  std::vector<ProductImage> images_of(std::int64_t product_id) {
    auto images = catalog_->list_images(product_id);
    EXPECT_TRUE(images.ok()) << images.error().to_string();
    return images.ok() ? *images : std::vector<ProductImage>{};
  }

  std::int64_t last_seq() {
    auto seq = catalog_->last_change_seq();
    EXPECT_TRUE(seq.ok()) << seq.error().to_string();
    return seq.ok() ? *seq : -1;
  }

  std::vector<IndexChange> changes_after(std::int64_t seq) {
    auto changes = catalog_->changes_since(seq, 1'000'000);
    EXPECT_TRUE(changes.ok()) << changes.error().to_string();
    return changes.ok() ? *changes : std::vector<IndexChange>{};
  }

  // {image_id} of the changes of `kind` after `seq`.
  std::set<std::int64_t> changed_ids(std::int64_t seq, IndexChange::Kind kind) {
    std::set<std::int64_t> ids;
    for (const auto& change : changes_after(seq)) {
      if (change.kind == kind) ids.insert(change.image_id);
    }
    return ids;
  }

  CatalogStats stats() {
    auto stats = catalog_->stats();
    EXPECT_TRUE(stats.ok()) << stats.error().to_string();
    return stats.ok() ? *stats : CatalogStats{};
  }

  std::unique_ptr<Catalog> catalog_;
};

// --- products -----------------------------------------------------------------------------------

TEST_P(CatalogContractTest, BackendNameIsKnown) {
  EXPECT_TRUE(cat().backend_name() == "sqlite" || cat().backend_name() == "postgresql")
      << cat().backend_name();
}

TEST_P(CatalogContractTest, FreshCatalogueIsEmpty) {
  CatalogStats s = stats();
  EXPECT_EQ(s.products, 0);
  EXPECT_EQ(s.images, 0);
  EXPECT_EQ(s.distinct_images, 0);
  EXPECT_EQ(s.embeddings, 0);
  EXPECT_EQ(s.last_change_seq, 0);
  EXPECT_EQ(last_seq(), 0);
  auto page = cat().list_products(0, 10, "");
  CONTRACT_ASSERT_OK(page);
  EXPECT_TRUE(page->items.empty());
  EXPECT_EQ(page->total, 0);
}

TEST_P(CatalogContractTest, CreateThenGetReturnsTheStoredProduct) {
  Product input = make_product("sku-1");
  input.id = 12345;  // ignored
  input.created_at = "1999-01-01T00:00:00Z";
  auto created = cat().create_product(input);
  CONTRACT_ASSERT_OK(created);
  EXPECT_GT(created->id, 0);
  EXPECT_NE(created->id, 12345);
  EXPECT_EQ(created->external_id, "sku-1");
  EXPECT_EQ(created->title, input.title);
  EXPECT_EQ(created->description, input.description);
  EXPECT_EQ(created->category, "shoes");
  EXPECT_EQ(created->price_cents, std::optional<std::int64_t>(1999));
  EXPECT_EQ(created->currency, "USD");
  EXPECT_EQ(created->image_url, input.image_url);
  EXPECT_EQ(created->metadata, input.metadata);
  EXPECT_TRUE(is_iso_utc(created->created_at)) << created->created_at;
  EXPECT_TRUE(is_iso_utc(created->updated_at)) << created->updated_at;
  EXPECT_NE(created->created_at, "1999-01-01T00:00:00Z");

  auto got = cat().get_product(created->id);
  CONTRACT_ASSERT_OK(got);
  EXPECT_EQ(got->id, created->id);
  EXPECT_EQ(got->title, created->title);
  EXPECT_EQ(got->metadata, created->metadata);
  EXPECT_EQ(got->created_at, created->created_at);

  auto by_external = cat().get_product_by_external_id("sku-1");
  CONTRACT_ASSERT_OK(by_external);
  EXPECT_EQ(by_external->id, created->id);
  EXPECT_EQ(stats().products, 1);
}

TEST_P(CatalogContractTest, EmptyOptionalTextReadsBackEmpty) {
  Product input = make_product("bare");
  input.description.clear();
  input.category.clear();
  input.currency.clear();
  input.image_url.clear();
  input.price_cents.reset();
  input.metadata = nlohmann::json::object();
  auto created = cat().create_product(input);
  CONTRACT_ASSERT_OK(created);
  auto got = cat().get_product(created->id);
  CONTRACT_ASSERT_OK(got);
  EXPECT_EQ(got->description, "");
  EXPECT_EQ(got->category, "");
  EXPECT_EQ(got->currency, "");
  EXPECT_EQ(got->image_url, "");
  EXPECT_FALSE(got->price_cents.has_value());
  EXPECT_TRUE(got->metadata.is_object());
  EXPECT_TRUE(got->metadata.empty());
}

TEST_P(CatalogContractTest, UnknownIdsAreNotFound) {
  Product existing = create("exists");
  const std::int64_t unknown = existing.id + 1000;
  CONTRACT_EXPECT_ERROR(cat().get_product(unknown), ErrorCode::kNotFound);
  CONTRACT_EXPECT_ERROR(cat().get_product_by_external_id("missing"), ErrorCode::kNotFound);
  Product update = make_product("whatever");
  update.id = unknown;
  CONTRACT_EXPECT_ERROR(cat().update_product(update), ErrorCode::kNotFound);
  CONTRACT_EXPECT_ERROR(cat().delete_product(unknown), ErrorCode::kNotFound);
  CONTRACT_EXPECT_ERROR(cat().list_images(unknown), ErrorCode::kNotFound);
  CONTRACT_EXPECT_ERROR(cat().get_image(unknown), ErrorCode::kNotFound);
  CONTRACT_EXPECT_ERROR(cat().add_image(unknown, make_image("x", 1, sha_of(1)), std::nullopt),
                        ErrorCode::kNotFound);
  CONTRACT_EXPECT_ERROR(cat().delete_image(unknown), ErrorCode::kNotFound);
  EXPECT_EQ(stats().images, 0);
  EXPECT_EQ(last_seq(), 0);
}

TEST_P(CatalogContractTest, DuplicateExternalIdIsAlreadyExists) {
  Product first = create("dup");
  CONTRACT_EXPECT_ERROR(cat().create_product(make_product("dup")), ErrorCode::kAlreadyExists);
  Product second = create("other");
  second.external_id = "dup";
  CONTRACT_EXPECT_ERROR(cat().update_product(second), ErrorCode::kAlreadyExists);
  EXPECT_EQ(stats().products, 2);
  auto still = cat().get_product(second.id);
  CONTRACT_ASSERT_OK(still);
  EXPECT_EQ(still->external_id, "other");
}

struct InvalidCase {
  const char* field;
  std::function<void(Product&)> spoil;
};

inline std::vector<InvalidCase> invalid_product_cases() {
  return {
      {"external_id", [](Product& p) { p.external_id.clear(); }},
      {"external_id", [](Product& p) { p.external_id = std::string(256, 'e'); }},
      {"external_id", [](Product& p) { p.external_id = "bad\xff"; }},
      {"external_id", [](Product& p) { p.external_id = std::string("nul\0inside", 10); }},
      {"title", [](Product& p) { p.title = std::string("nul\0", 4); }},
      {"title", [](Product& p) { p.title.clear(); }},
      {"title", [](Product& p) { p.title = std::string(501, 't'); }},
      {"title", [](Product& p) { p.title = "caf\xc3"; }},
      {"description", [](Product& p) { p.description = "\xed\xa0\x80"; }},  // a surrogate
      {"category", [](Product& p) { p.category = std::string(101, 'c'); }},
      {"currency", [](Product& p) { p.currency = "ELEVENCHARS"; }},
      {"price_cents", [](Product& p) { p.price_cents = kMaxPriceCents + 1; }},
      {"price_cents", [](Product& p) { p.price_cents = -kMaxPriceCents - 1; }},
      {"metadata",
       [](Product& p) {
         p.metadata = nlohmann::json::array({1, 2});
       }},
      {"metadata", [](Product& p) { p.metadata = "a string"; }},
      {"metadata", [](Product& p) { p.metadata = nlohmann::json(); }},
      {"metadata",
       [](Product& p) {
         p.metadata = {{"key", "bad\xff"}};
       }},
  };
}

TEST_P(CatalogContractTest, InvalidProductsAreRejectedNamingTheField) {
  Product stored = create("stored");
  int i = 0;
  for (const auto& c : invalid_product_cases()) {
    SCOPED_TRACE(std::string(c.field) + " case " + std::to_string(i++));
    Product product = make_product("new-" + std::to_string(i));
    c.spoil(product);
    auto created = cat().create_product(product);
    ASSERT_FALSE(created.ok());
    EXPECT_EQ(created.error().code, ErrorCode::kInvalidArgument) << created.error().to_string();
    EXPECT_NE(created.error().message.find(c.field), std::string::npos) << created.error().message;

    Product update = stored;
    c.spoil(update);
    auto updated = cat().update_product(update);
    ASSERT_FALSE(updated.ok());
    EXPECT_EQ(updated.error().code, ErrorCode::kInvalidArgument) << updated.error().to_string();

    ProductWrite write;
    write.product = make_product("write-" + std::to_string(i));
    c.spoil(write.product);
    auto written = cat().write_products(std::span<const ProductWrite>(&write, 1));
    ASSERT_FALSE(written.ok());
    EXPECT_EQ(written.error().code, ErrorCode::kInvalidArgument) << written.error().to_string();
  }
  EXPECT_EQ(stats().products, 1);
  auto unchanged = cat().get_product(stored.id);
  CONTRACT_ASSERT_OK(unchanged);
  EXPECT_EQ(unchanged->title, stored.title);
}

TEST_P(CatalogContractTest, FieldsAtTheirLimitsAreAccepted) {
  Product product = make_product(std::string(255, 'x'));
  product.title = std::string(500, 't');
  product.category = std::string(100, 'c');
  product.currency = "TENCHARSXX";
  product.price_cents = kMaxPriceCents;
  auto created = cat().create_product(product);
  CONTRACT_ASSERT_OK(created);
  EXPECT_EQ(created->external_id, product.external_id);
  EXPECT_EQ(created->title, product.title);
  EXPECT_EQ(created->category, product.category);
  EXPECT_EQ(created->currency, product.currency);
}

TEST_P(CatalogContractTest, PricesAreExactCents) {
  const std::vector<std::optional<std::int64_t>> prices = {
      1999, 0, -1999, 1, 10, 99, 100, 12345678, kMaxPriceCents, -kMaxPriceCents, std::nullopt};
  std::vector<std::int64_t> ids;
  for (std::size_t i = 0; i < prices.size(); ++i) {
    Product product = make_product("price-" + std::to_string(i));
    product.price_cents = prices[i];
    auto created = cat().create_product(product);
    CONTRACT_ASSERT_OK(created);
    EXPECT_EQ(created->price_cents, prices[i]);
    ids.push_back(created->id);
  }
  auto products = cat().get_products(ids);
  CONTRACT_ASSERT_OK(products);
  ASSERT_EQ(products->size(), prices.size());
  for (std::size_t i = 0; i < prices.size(); ++i) {
    EXPECT_EQ((*products)[i].price_cents, prices[i]) << "index " << i;
  }
  // Through write_products and index payloads too.
  ProductWrite write = make_write("price-write", 1, 500);
  write.product.price_cents = 1999;
  Product written = write_one(write);
  EXPECT_EQ(written.price_cents, std::optional<std::int64_t>(1999));
  auto entries = cat().scan_index_entries(kFingerprint, 0, 10);
  CONTRACT_ASSERT_OK(entries);
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ(entries->front().price_cents, std::optional<std::int64_t>(1999));
}

TEST_P(CatalogContractTest, MetadataAndUnicodeRoundTrip) {
  Product product = make_product("unicode-\xe2\x9c\x93");
  product.title = "Chaussure d'\xc3\xa9t\xc3\xa9 \xe9\x9e\x8b \xf0\x9f\x91\x9f";
  product.description = "Line 1\nLine 2\t\"quoted\" \\ backslash";
  product.category = "v\xc3\xaatements";
  product.currency = "\xe2\x82\xac";
  product.metadata = nlohmann::json::parse(R"({
    "brand": "Zo\u00e9 \ud83d\udc5f",
    "nested": {"sizes": [38, 39.5, 40], "colours": {"primary": "red", "extra": null}},
    "flags": [true, false],
    "big": 9007199254740993,
    "ratio": 0.1,
    "empty_object": {},
    "empty_array": [],
    "quote": "he said \"hi\"\n"
  })");
  auto created = cat().create_product(product);
  CONTRACT_ASSERT_OK(created);
  auto got = cat().get_product_by_external_id(product.external_id);
  CONTRACT_ASSERT_OK(got);
  EXPECT_EQ(got->title, product.title);
  EXPECT_EQ(got->description, product.description);
  EXPECT_EQ(got->category, product.category);
  EXPECT_EQ(got->currency, product.currency);
  EXPECT_EQ(got->metadata, product.metadata) << got->metadata.dump();
  EXPECT_EQ(got->metadata["big"].get<std::int64_t>(), 9007199254740993LL);

  auto page = cat().list_products(0, 10, product.category);
  CONTRACT_ASSERT_OK(page);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].id, created->id);
}

TEST_P(CatalogContractTest, GetProductsKeepsTheOrderGivenAndSkipsUnknownIds) {
  Product a = create("a");
  Product b = create("b");
  Product c = create("c");
  const std::vector<std::int64_t> ids = {c.id, c.id + b.id + a.id + 100, a.id, b.id};
  auto products = cat().get_products(ids);
  CONTRACT_ASSERT_OK(products);
  ASSERT_EQ(products->size(), 3u);
  EXPECT_EQ((*products)[0].external_id, "c");
  EXPECT_EQ((*products)[1].external_id, "a");
  EXPECT_EQ((*products)[2].external_id, "b");
  auto none = cat().get_products({});
  CONTRACT_ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
}

TEST_P(CatalogContractTest, ListProductsPagesInIdOrderWithCategoryAndTotal) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 25; ++i) {
    Product product = make_product("list-" + std::to_string(i));
    product.category = i % 3 == 0 ? "bags" : "shoes";
    auto created = cat().create_product(product);
    CONTRACT_ASSERT_OK(created);
    ids.push_back(created->id);
  }
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));

  std::vector<std::int64_t> seen;
  for (std::int64_t offset = 0; offset < 25; offset += 10) {
    auto page = cat().list_products(offset, 10, "");
    CONTRACT_ASSERT_OK(page);
    EXPECT_EQ(page->total, 25);
    for (const auto& p : page->items) seen.push_back(p.id);
  }
  EXPECT_EQ(seen, ids);

  auto bags = cat().list_products(0, 100, "bags");
  CONTRACT_ASSERT_OK(bags);
  EXPECT_EQ(bags->total, 9);
  ASSERT_EQ(bags->items.size(), 9u);
  for (const auto& p : bags->items) EXPECT_EQ(p.category, "bags");
  EXPECT_TRUE(std::is_sorted(bags->items.begin(), bags->items.end(),
                             [](const Product& x, const Product& y) { return x.id < y.id; }));

  auto bags_page = cat().list_products(3, 4, "bags");
  CONTRACT_ASSERT_OK(bags_page);
  EXPECT_EQ(bags_page->total, 9);
  ASSERT_EQ(bags_page->items.size(), 4u);
  EXPECT_EQ(bags_page->items[0].id, bags->items[3].id);

  auto past_end = cat().list_products(100, 10, "");
  CONTRACT_ASSERT_OK(past_end);
  EXPECT_TRUE(past_end->items.empty());
  EXPECT_EQ(past_end->total, 25);

  auto no_such = cat().list_products(0, 10, "hats");
  CONTRACT_ASSERT_OK(no_such);
  EXPECT_TRUE(no_such->items.empty());
  EXPECT_EQ(no_such->total, 0);

  CONTRACT_EXPECT_ERROR(cat().list_products(-1, 10, ""), ErrorCode::kInvalidArgument);
  CONTRACT_EXPECT_ERROR(cat().list_products(0, -1, ""), ErrorCode::kInvalidArgument);
}

TEST_P(CatalogContractTest, UpdateProductReplacesFieldsAndLogsUpsertsForItsImages) {
  Product stored = write_one(make_write("upd", 2, 10));
  std::vector<ProductImage> images = images_of(stored.id);
  ASSERT_EQ(images.size(), 2u);
  const std::int64_t before = last_seq();

  Product edit = stored;
  edit.external_id = "upd-renamed";
  edit.title = "New title";
  edit.description.clear();
  edit.category = "boots";
  edit.price_cents = 2500;
  edit.currency = "EUR";
  edit.metadata = {{"k", "v"}};
  auto updated = cat().update_product(edit);
  CONTRACT_ASSERT_OK(updated);
  EXPECT_EQ(updated->id, stored.id);
  EXPECT_EQ(updated->external_id, "upd-renamed");
  EXPECT_EQ(updated->title, "New title");
  EXPECT_EQ(updated->description, "");
  EXPECT_EQ(updated->category, "boots");
  EXPECT_EQ(updated->price_cents, std::optional<std::int64_t>(2500));
  EXPECT_EQ(updated->currency, "EUR");
  EXPECT_EQ(updated->metadata, edit.metadata);
  EXPECT_EQ(updated->created_at, stored.created_at);
  EXPECT_TRUE(is_iso_utc(updated->updated_at));

  EXPECT_EQ(changed_ids(before, IndexChange::Kind::kUpsert),
            (std::set<std::int64_t>{images[0].id, images[1].id}));
  EXPECT_TRUE(changed_ids(before, IndexChange::Kind::kDelete).empty());
  CONTRACT_EXPECT_ERROR(cat().get_product_by_external_id("upd"), ErrorCode::kNotFound);

  auto entries = cat().index_entries(std::vector<std::int64_t>{images[0].id}, kFingerprint);
  CONTRACT_ASSERT_OK(entries);
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ(entries->front().external_id, "upd-renamed");
  EXPECT_EQ(entries->front().category, "boots");
  EXPECT_EQ(entries->front().currency, "EUR");
}

TEST_P(CatalogContractTest, DeleteProductRemovesImagesKeepsEmbeddingsAndLogsDeletes) {
  Product doomed = write_one(make_write("doomed", 3, 20));
  Product kept = write_one(make_write("kept", 1, 30));
  std::vector<ProductImage> images = images_of(doomed.id);
  ASSERT_EQ(images.size(), 3u);
  const std::int64_t before = last_seq();

  auto deleted = cat().delete_product(doomed.id);
  CONTRACT_ASSERT_OK(deleted);
  ASSERT_EQ(deleted->size(), 3u);
  std::set<std::int64_t> deleted_ids;
  for (const auto& image : *deleted) {
    deleted_ids.insert(image.id);
    EXPECT_EQ(image.product_id, doomed.id);
    EXPECT_FALSE(image.path.empty());
    CONTRACT_EXPECT_ERROR(cat().get_image(image.id), ErrorCode::kNotFound);
  }
  EXPECT_EQ(deleted_ids, (std::set<std::int64_t>{images[0].id, images[1].id, images[2].id}));
  EXPECT_EQ(changed_ids(before, IndexChange::Kind::kDelete), deleted_ids);
  EXPECT_TRUE(changed_ids(before, IndexChange::Kind::kUpsert).empty());

  CONTRACT_EXPECT_ERROR(cat().get_product(doomed.id), ErrorCode::kNotFound);
  CONTRACT_EXPECT_ERROR(cat().get_product_by_external_id("doomed"), ErrorCode::kNotFound);
  CONTRACT_EXPECT_ERROR(cat().delete_product(doomed.id), ErrorCode::kNotFound);
  for (int i = 0; i < 3; ++i) {
    auto has = cat().has_embedding(sha_of(20 + i), kFingerprint);
    CONTRACT_ASSERT_OK(has);
    EXPECT_TRUE(*has) << "embeddings stay after their images are deleted";
  }
  auto count = cat().count_images_with_path(images[0].path);
  CONTRACT_ASSERT_OK(count);
  EXPECT_EQ(*count, 0);
  CatalogStats s = stats();
  EXPECT_EQ(s.products, 1);
  EXPECT_EQ(s.images, 1);
  EXPECT_EQ(s.embeddings, 4);
  EXPECT_EQ(images_of(kept.id).size(), 1u);

  // The external_id is free again.
  auto again = cat().create_product(make_product("doomed"));
  CONTRACT_ASSERT_OK(again);
  EXPECT_NE(again->id, doomed.id);
}

// --- ingestion ----------------------------------------------------------------------------------

TEST_P(CatalogContractTest, WriteProductsCreatesAndUpdatesInOneCallInOrder) {
  std::vector<ProductWrite> first = {make_write("w1", 2, 100), make_write("w2", 1, 110)};
  auto stored = cat().write_products(first);
  CONTRACT_ASSERT_OK(stored);
  ASSERT_EQ(stored->size(), 2u);
  EXPECT_EQ((*stored)[0].external_id, "w1");
  EXPECT_EQ((*stored)[1].external_id, "w2");
  const std::int64_t w1 = (*stored)[0].id;
  const std::int64_t w2 = (*stored)[1].id;
  EXPECT_GT(w1, 0);
  EXPECT_GT(w2, 0);
  EXPECT_NE(w1, w2);

  std::vector<ProductWrite> second = {make_write("w3", 1, 120), make_write("w1", 2, 100),
                                      make_write("w2", 1, 110)};
  second[1].product.title = "w1 retitled";
  second[2].product.price_cents = 5;
  auto again = cat().write_products(second);
  CONTRACT_ASSERT_OK(again);
  ASSERT_EQ(again->size(), 3u);
  EXPECT_EQ((*again)[0].external_id, "w3");
  EXPECT_EQ((*again)[1].id, w1);
  EXPECT_EQ((*again)[1].title, "w1 retitled");
  EXPECT_EQ((*again)[1].created_at, (*stored)[0].created_at);
  EXPECT_EQ((*again)[2].id, w2);
  EXPECT_EQ((*again)[2].price_cents, std::optional<std::int64_t>(5));
  EXPECT_EQ(stats().products, 3);
  EXPECT_EQ(stats().images, 4);

  auto empty = cat().write_products({});
  CONTRACT_ASSERT_OK(empty);
  EXPECT_TRUE(empty->empty());
}

TEST_P(CatalogContractTest, WriteProductsStoresImagesAndSetsImageUrlToTheFirstImage) {
  ProductWrite write = make_write("imgs", 3, 200);
  write.product.image_url = "/images/somewhere/else.jpg";
  std::reverse(write.images.begin(), write.images.end());  // positions decide, not list order
  Product stored = write_one(write);
  EXPECT_EQ(stored.image_url, "/images/imgs/image_1.jpg");
  std::vector<ProductImage> images = images_of(stored.id);
  ASSERT_EQ(images.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const ProductImage& image = images[static_cast<std::size_t>(i)];
    ProductImage expected = make_image("imgs", i + 1, sha_of(200 + i));
    EXPECT_GT(image.id, 0);
    EXPECT_EQ(image.product_id, stored.id);
    EXPECT_EQ(image.position, i + 1);
    EXPECT_EQ(image.path, expected.path);
    EXPECT_EQ(image.url, expected.url);
    EXPECT_EQ(image.source, expected.source);
    EXPECT_EQ(image.sha256, expected.sha256);
    EXPECT_EQ(image.size_bytes, expected.size_bytes);
    EXPECT_EQ(image.width, 640);
    EXPECT_EQ(image.height, 480);
    EXPECT_EQ(image.format, "jpeg");
    EXPECT_EQ(image.etag, expected.etag);
    EXPECT_TRUE(is_iso_utc(image.created_at)) << image.created_at;
    auto got = cat().get_image(image.id);
    CONTRACT_ASSERT_OK(got);
    EXPECT_EQ(got->sha256, image.sha256);
  }
  // Without images the caller's image_url stays.
  ProductWrite bare = make_write("bare", 0, 0);
  bare.product.image_url = "/images/bare/image_1.jpg";
  EXPECT_EQ(write_one(bare).image_url, "/images/bare/image_1.jpg");
}

TEST_P(CatalogContractTest, WriteProductsReplacesTheImageListMatchingOnPosition) {
  Product stored = write_one(make_write("repl", 3, 300));
  std::vector<ProductImage> before_images = images_of(stored.id);
  ASSERT_EQ(before_images.size(), 3u);
  const std::int64_t before = last_seq();

  ProductWrite write = make_write("repl", 0, 0);
  write.images.push_back(make_image("repl", 1, sha_of(300)));  // unchanged
  ProductImage changed = make_image("repl", 2, sha_of(399));   // new bytes at position 2
  changed.path = "repl/image_2.png";
  changed.url = "/images/repl/image_2.png";
  changed.format = "png";
  write.images.push_back(changed);
  write.images.push_back(make_image("repl", 4, sha_of(304)));  // new; position 3 is dropped
  Product rewritten = write_one(write);
  EXPECT_EQ(rewritten.id, stored.id);

  std::vector<ProductImage> after_images = images_of(stored.id);
  ASSERT_EQ(after_images.size(), 3u);
  EXPECT_EQ(after_images[0].position, 1);
  EXPECT_EQ(after_images[0].id, before_images[0].id);
  EXPECT_EQ(after_images[1].position, 2);
  EXPECT_EQ(after_images[1].id, before_images[1].id) << "updated in place";
  EXPECT_EQ(after_images[1].sha256, sha_of(399));
  EXPECT_EQ(after_images[1].path, "repl/image_2.png");
  EXPECT_EQ(after_images[1].format, "png");
  EXPECT_EQ(after_images[2].position, 4);
  CONTRACT_EXPECT_ERROR(cat().get_image(before_images[2].id), ErrorCode::kNotFound);

  EXPECT_EQ(changed_ids(before, IndexChange::Kind::kDelete),
            (std::set<std::int64_t>{before_images[2].id}));
  EXPECT_EQ(changed_ids(before, IndexChange::Kind::kUpsert),
            (std::set<std::int64_t>{after_images[1].id, after_images[2].id}))
      << "an unchanged image of a product whose payload did not change is not logged";

  // An empty image list removes them all.
  const std::int64_t before_clear = last_seq();
  write_one(make_write("repl", 0, 0));
  EXPECT_TRUE(images_of(stored.id).empty());
  EXPECT_EQ(changed_ids(before_clear, IndexChange::Kind::kDelete).size(), 3u);
}

TEST_P(CatalogContractTest, RewritingTheSameProductLogsNothing) {
  ProductWrite write = make_write("same", 2, 400, /*with_embeddings=*/false);
  write_one(write);
  const std::int64_t before = last_seq();
  EXPECT_GT(before, 0);
  Product again = write_one(write);
  EXPECT_EQ(last_seq(), before);
  EXPECT_EQ(again.external_id, "same");
  EXPECT_EQ(stats().images, 2);
}

TEST_P(CatalogContractTest, WriteProductsLogsUpsertsWhenTheIndexPayloadChanges) {
  ProductWrite write = make_write("payload", 2, 450, /*with_embeddings=*/false);
  Product stored = write_one(write);
  std::vector<ProductImage> images = images_of(stored.id);
  for (auto change : {0, 1, 2}) {
    const std::int64_t before = last_seq();
    if (change == 0) write.product.price_cents = *write.product.price_cents + 1;
    if (change == 1) write.product.category = "category-" + std::to_string(change);
    if (change == 2) write.product.currency = "GBP";
    write_one(write);
    EXPECT_EQ(changed_ids(before, IndexChange::Kind::kUpsert),
              (std::set<std::int64_t>{images[0].id, images[1].id}))
        << "change " << change;
  }
}

TEST_P(CatalogContractTest, WriteProductsStoresEmbeddingsAndLogsTheirImages) {
  ProductWrite write = make_write("emb", 2, 500);
  const std::int64_t before = last_seq();
  Product stored = write_one(write);
  std::vector<ProductImage> images = images_of(stored.id);
  ASSERT_EQ(images.size(), 2u);
  for (const auto& embedding : write.embeddings) {
    auto got = cat().get_embedding(embedding.sha256, kFingerprint);
    CONTRACT_ASSERT_OK(got);
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ((*got)->sha256, embedding.sha256);
    EXPECT_EQ((*got)->fingerprint, kFingerprint);
    EXPECT_TRUE(bit_equal((*got)->vector, embedding.vector));
  }
  EXPECT_EQ(changed_ids(before, IndexChange::Kind::kUpsert),
            (std::set<std::int64_t>{images[0].id, images[1].id}));

  // A later product with the same bytes, sending the embedding again: both images are logged.
  ProductWrite twin = make_write("emb-twin", 1, 500);
  const std::int64_t before_twin = last_seq();
  Product twin_stored = write_one(twin);
  std::vector<ProductImage> twin_images = images_of(twin_stored.id);
  ASSERT_EQ(twin_images.size(), 1u);
  EXPECT_EQ(changed_ids(before_twin, IndexChange::Kind::kUpsert),
            (std::set<std::int64_t>{images[0].id, twin_images[0].id}));
  EXPECT_EQ(stats().embeddings, 2);
  EXPECT_EQ(stats().distinct_images, 2);
}

TEST_P(CatalogContractTest, WriteProductsIsAllOrNothing) {
  Product existing = write_one(make_write("exists", 1, 600));
  const CatalogStats before = stats();

  std::vector<ProductWrite> batch = {make_write("new-1", 2, 610), make_write("new-2", 2, 620),
                                     make_write("exists", 3, 630)};
  batch[2].product.title = "changed";
  batch[1].product.title.clear();  // the 2nd item is invalid
  auto result = cat().write_products(batch);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(result.error().message.find("title"), std::string::npos) << result.error().message;

  // An invalid image or embedding in the 2nd item fails the batch the same way.
  batch[1].product.title = "fine";
  batch[1].images[1].sha256 = "NOT-A-SHA";
  CONTRACT_EXPECT_ERROR(cat().write_products(batch), ErrorCode::kInvalidArgument);
  batch[1].images[1].sha256 = sha_of(621);
  batch[1].embeddings[0].vector.clear();
  CONTRACT_EXPECT_ERROR(cat().write_products(batch), ErrorCode::kInvalidArgument);
  batch[1].embeddings[0] = make_embedding(sha_of(620), kFingerprint, 1);
  batch[1].images[1].position = 1;  // two images at position 1
  CONTRACT_EXPECT_ERROR(cat().write_products(batch), ErrorCode::kInvalidArgument);

  const CatalogStats after = stats();
  EXPECT_EQ(after.products, before.products);
  EXPECT_EQ(after.images, before.images);
  EXPECT_EQ(after.embeddings, before.embeddings);
  EXPECT_EQ(after.last_change_seq, before.last_change_seq);
  CONTRACT_EXPECT_ERROR(cat().get_product_by_external_id("new-1"), ErrorCode::kNotFound);
  auto unchanged = cat().get_product(existing.id);
  CONTRACT_ASSERT_OK(unchanged);
  EXPECT_EQ(unchanged->title, existing.title);
  EXPECT_EQ(images_of(existing.id).size(), 1u);
  auto has = cat().has_embedding(sha_of(610), kFingerprint);
  CONTRACT_ASSERT_OK(has);
  EXPECT_FALSE(*has);
}

TEST_P(CatalogContractTest, ImagePositionsBelowOneAreRejected) {
  ProductWrite write = make_write("pos", 1, 700);
  write.images[0].position = 0;
  CONTRACT_EXPECT_ERROR(cat().write_products(std::span<const ProductWrite>(&write, 1)),
                        ErrorCode::kInvalidArgument);
  EXPECT_EQ(stats().products, 0);
}

// --- images -------------------------------------------------------------------------------------

TEST_P(CatalogContractTest, AddImageAppendsAtTheNextPosition) {
  Product product = create("add");
  const std::int64_t before = last_seq();
  auto first = cat().add_image(product.id, make_image("add", 7, sha_of(800)), std::nullopt);
  CONTRACT_ASSERT_OK(first);
  EXPECT_EQ(first->position, 1) << "the position passed in is ignored";
  EXPECT_EQ(first->product_id, product.id);
  EXPECT_EQ(first->sha256, sha_of(800));
  EXPECT_TRUE(is_iso_utc(first->created_at));
  auto with_url = cat().get_product(product.id);
  CONTRACT_ASSERT_OK(with_url);
  EXPECT_EQ(with_url->image_url, first->url) << "the first image names the product's image_url";

  Embedding embedding = make_embedding(sha_of(801), kFingerprint, 801);
  auto second = cat().add_image(product.id, make_image("add", 2, sha_of(801)), embedding);
  CONTRACT_ASSERT_OK(second);
  EXPECT_EQ(second->position, 2);
  auto stored = cat().get_embedding(sha_of(801), kFingerprint);
  CONTRACT_ASSERT_OK(stored);
  ASSERT_TRUE(stored->has_value());
  EXPECT_TRUE(bit_equal((*stored)->vector, embedding.vector));
  EXPECT_EQ(changed_ids(before, IndexChange::Kind::kUpsert),
            (std::set<std::int64_t>{first->id, second->id}));

  // After deleting the last image the next one takes max(position) + 1.
  CONTRACT_ASSERT_OK(cat().delete_image(second->id));
  auto third = cat().add_image(product.id, make_image("add", 1, sha_of(802)), std::nullopt);
  CONTRACT_ASSERT_OK(third);
  EXPECT_EQ(third->position, 2);
  EXPECT_EQ(images_of(product.id).size(), 2u);
  auto unchanged = cat().get_product(product.id);
  CONTRACT_ASSERT_OK(unchanged);
  EXPECT_EQ(unchanged->image_url, first->url);
}

TEST_P(CatalogContractTest, AddImageValidatesTheImageAndEmbedding) {
  Product product = create("add-bad");
  ProductImage bad = make_image("add-bad", 1, "ABC");
  CONTRACT_EXPECT_ERROR(cat().add_image(product.id, bad, std::nullopt),
                        ErrorCode::kInvalidArgument);
  ProductImage no_path = make_image("add-bad", 1, sha_of(1));
  no_path.path.clear();
  CONTRACT_EXPECT_ERROR(cat().add_image(product.id, no_path, std::nullopt),
                        ErrorCode::kInvalidArgument);
  Embedding nan = make_embedding(sha_of(1), kFingerprint, 1);
  nan.vector[3] = std::numeric_limits<float>::quiet_NaN();
  CONTRACT_EXPECT_ERROR(cat().add_image(product.id, make_image("add-bad", 1, sha_of(1)), nan),
                        ErrorCode::kInvalidArgument);
  EXPECT_EQ(stats().images, 0);
  EXPECT_EQ(stats().embeddings, 0);
}

TEST_P(CatalogContractTest, AddImageWithAnEmbeddingLogsEveryImageWithThoseBytes) {
  Product a = write_one(make_write("share-a", 1, 900, /*with_embeddings=*/false));
  Product b = create("share-b");
  const std::int64_t before = last_seq();
  auto added = cat().add_image(b.id, make_image("share-b", 1, sha_of(900)),
                               make_embedding(sha_of(900), kFingerprint, 900));
  CONTRACT_ASSERT_OK(added);
  EXPECT_EQ(changed_ids(before, IndexChange::Kind::kUpsert),
            (std::set<std::int64_t>{images_of(a.id)[0].id, added->id}));
}

TEST_P(CatalogContractTest, DeleteImageRemovesOnlyThatImageAndLogsADelete) {
  Product product = write_one(make_write("del-img", 3, 1000));
  std::vector<ProductImage> images = images_of(product.id);
  const std::int64_t before = last_seq();
  CONTRACT_ASSERT_OK(cat().delete_image(images[1].id));
  CONTRACT_EXPECT_ERROR(cat().get_image(images[1].id), ErrorCode::kNotFound);
  CONTRACT_EXPECT_ERROR(cat().delete_image(images[1].id), ErrorCode::kNotFound);
  std::vector<ProductImage> left = images_of(product.id);
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].id, images[0].id);
  EXPECT_EQ(left[1].id, images[2].id);
  std::vector<IndexChange> changes = changes_after(before);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].image_id, images[1].id);
  EXPECT_EQ(changes[0].kind, IndexChange::Kind::kDelete);
  auto has = cat().has_embedding(images[1].sha256, kFingerprint);
  CONTRACT_ASSERT_OK(has);
  EXPECT_TRUE(*has);
}

TEST_P(CatalogContractTest, FindImageBySha256AndCountImagesWithPath) {
  auto none = cat().find_image_by_sha256(sha_of(1100));
  CONTRACT_ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());

  Product a = write_one(make_write("find-a", 2, 1100));
  ProductWrite dup = make_write("find-b", 0, 0);
  ProductImage shared = make_image("find-a", 1, sha_of(1100));  // same bytes, same stored file
  dup.images.push_back(shared);
  Product b = write_one(dup);

  auto found = cat().find_image_by_sha256(sha_of(1100));
  CONTRACT_ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->sha256, sha_of(1100));
  EXPECT_TRUE((*found)->product_id == a.id || (*found)->product_id == b.id);

  auto second = cat().find_image_by_sha256(sha_of(1101));
  CONTRACT_ASSERT_OK(second);
  ASSERT_TRUE(second->has_value());
  EXPECT_EQ((*second)->product_id, a.id);
  EXPECT_EQ((*second)->position, 2);

  auto shared_count = cat().count_images_with_path(shared.path);
  CONTRACT_ASSERT_OK(shared_count);
  EXPECT_EQ(*shared_count, 2);
  auto single = cat().count_images_with_path("find-a/image_2.jpg");
  CONTRACT_ASSERT_OK(single);
  EXPECT_EQ(*single, 1);
  auto zero = cat().count_images_with_path("nowhere/image_1.jpg");
  CONTRACT_ASSERT_OK(zero);
  EXPECT_EQ(*zero, 0);

  CONTRACT_ASSERT_OK(cat().delete_product(a.id));
  auto after = cat().count_images_with_path(shared.path);
  CONTRACT_ASSERT_OK(after);
  EXPECT_EQ(*after, 1);
  auto still = cat().find_image_by_sha256(sha_of(1100));
  CONTRACT_ASSERT_OK(still);
  ASSERT_TRUE(still->has_value());
  EXPECT_EQ((*still)->product_id, b.id);
}

// --- embeddings ---------------------------------------------------------------------------------

TEST_P(CatalogContractTest, PutEmbeddingsReplacesAndLogsEveryImageWithThoseBytes) {
  Product a = write_one(make_write("pe-a", 2, 1200, /*with_embeddings=*/false));
  ProductWrite bw = make_write("pe-b", 0, 0);
  bw.images.push_back(make_image("pe-b", 1, sha_of(1200)));
  Product b = write_one(bw);
  std::vector<ProductImage> a_images = images_of(a.id);
  std::vector<ProductImage> b_images = images_of(b.id);

  auto has = cat().has_embedding(sha_of(1200), kFingerprint);
  CONTRACT_ASSERT_OK(has);
  EXPECT_FALSE(*has);

  std::int64_t before = last_seq();
  std::vector<Embedding> embeddings = {make_embedding(sha_of(1200), kFingerprint, 1),
                                       make_embedding(sha_of(1299), kFingerprint, 2)};
  CONTRACT_ASSERT_OK(cat().put_embeddings(embeddings));
  EXPECT_EQ(changed_ids(before, IndexChange::Kind::kUpsert),
            (std::set<std::int64_t>{a_images[0].id, b_images[0].id}))
      << "every image with those bytes; bytes no image has log nothing";
  has = cat().has_embedding(sha_of(1200), kFingerprint);
  CONTRACT_ASSERT_OK(has);
  EXPECT_TRUE(*has);
  has = cat().has_embedding(sha_of(1200), kOtherFingerprint);
  CONTRACT_ASSERT_OK(has);
  EXPECT_FALSE(*has);

  before = last_seq();
  Embedding replacement = make_embedding(sha_of(1200), kFingerprint, 99, 16);
  CONTRACT_ASSERT_OK(cat().put_embeddings(std::vector<Embedding>{replacement}));
  auto got = cat().get_embedding(sha_of(1200), kFingerprint);
  CONTRACT_ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_TRUE(bit_equal((*got)->vector, replacement.vector));
  EXPECT_EQ(changed_ids(before, IndexChange::Kind::kUpsert),
            (std::set<std::int64_t>{a_images[0].id, b_images[0].id}));
  EXPECT_EQ(stats().embeddings, 2);

  CONTRACT_ASSERT_OK(cat().put_embeddings({}));
}

TEST_P(CatalogContractTest, PutEmbeddingsValidatesAndStoresNothingOnError) {
  std::vector<Embedding> embeddings = {make_embedding(sha_of(1), kFingerprint, 1),
                                       make_embedding(sha_of(2), kFingerprint, 2)};
  auto check = [&](const char* field, const std::function<void(Embedding&)>& spoil) {
    std::vector<Embedding> bad = embeddings;
    spoil(bad[1]);
    auto status = cat().put_embeddings(bad);
    ASSERT_FALSE(status.ok()) << field;
    EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument) << status.error().to_string();
    EXPECT_NE(status.error().message.find(field), std::string::npos) << status.error().message;
  };
  check("sha256", [](Embedding& e) { e.sha256 = "xyz"; });
  check("sha256", [](Embedding& e) { e.sha256 = std::string(64, 'A'); });
  check("fingerprint", [](Embedding& e) { e.fingerprint.clear(); });
  check("vector", [](Embedding& e) { e.vector.clear(); });
  check("vector", [](Embedding& e) { e.vector[0] = std::numeric_limits<float>::infinity(); });
  check("vector", [](Embedding& e) { e.vector[0] = std::numeric_limits<float>::quiet_NaN(); });
  EXPECT_EQ(stats().embeddings, 0);
}

TEST_P(CatalogContractTest, VectorsRoundTripBitExactly) {
  std::vector<float> special = {0.0f,
                                -0.0f,
                                1.0f,
                                -1.0f,
                                1.0f / 3.0f,
                                3.14159265f,
                                std::numeric_limits<float>::min(),
                                std::numeric_limits<float>::denorm_min(),
                                -std::numeric_limits<float>::denorm_min(),
                                std::numeric_limits<float>::max(),
                                std::numeric_limits<float>::lowest(),
                                std::numeric_limits<float>::epsilon(),
                                1e-30f,
                                123456.789f};
  std::vector<float> wide = make_vector(7, 768);
  CONTRACT_ASSERT_OK(cat().put_embeddings(std::vector<Embedding>{
      Embedding{sha_of(1), kFingerprint, special}, Embedding{sha_of(2), kFingerprint, wide},
      Embedding{sha_of(2), kOtherFingerprint, {0.5f}}}));
  auto got = cat().get_embedding(sha_of(1), kFingerprint);
  CONTRACT_ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_TRUE(bit_equal((*got)->vector, special));
  EXPECT_TRUE(std::signbit((*got)->vector[1]));
  got = cat().get_embedding(sha_of(2), kFingerprint);
  CONTRACT_ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->vector.size(), 768u);
  EXPECT_TRUE(bit_equal((*got)->vector, wide));
  got = cat().get_embedding(sha_of(2), kOtherFingerprint);
  CONTRACT_ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->vector, std::vector<float>{0.5f});
  got = cat().get_embedding(sha_of(3), kFingerprint);
  CONTRACT_ASSERT_OK(got);
  EXPECT_FALSE(got->has_value());

  // Through the index feed as well.
  ProductWrite write = make_write("bits", 0, 0);
  write.images.push_back(make_image("bits", 1, sha_of(1)));
  write_one(write);
  auto entries = cat().scan_index_entries(kFingerprint, 0, 10);
  CONTRACT_ASSERT_OK(entries);
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_TRUE(bit_equal(entries->front().vector, special));
}

TEST_P(CatalogContractTest, ImagesMissingEmbeddingPagesDistinctBytesInOrder) {
  // 10 distinct contents (sha_of(1300..1309)), contents 1300..1302 used twice.
  for (int p = 0; p < 5; ++p) {
    ProductWrite write = make_write("miss-" + std::to_string(p), 0, 0);
    write.images.push_back(make_image(write.product.external_id, 1, sha_of(1300 + p * 2)));
    write.images.push_back(make_image(write.product.external_id, 2, sha_of(1300 + p * 2 + 1)));
    if (p < 2) {
      write.images.push_back(make_image(write.product.external_id, 3, sha_of(1300 + p)));
    }
    write_one(write);
  }
  write_one(make_write("dup-of-1302", 0, 0));
  {
    ProductWrite write = make_write("dup-of-1302", 0, 0);
    write.images.push_back(make_image("dup-of-1302", 1, sha_of(1302)));
    write_one(write);
  }
  // Contents 1303, 1305, 1307 have an embedding under kFingerprint; 1304 only under another.
  CONTRACT_ASSERT_OK(cat().put_embeddings(std::vector<Embedding>{
      make_embedding(sha_of(1303), kFingerprint, 1), make_embedding(sha_of(1305), kFingerprint, 2),
      make_embedding(sha_of(1307), kFingerprint, 3),
      make_embedding(sha_of(1304), kOtherFingerprint, 4)}));

  std::vector<std::string> seen;
  std::string after;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = cat().images_missing_embedding(kFingerprint, after, 3);
    CONTRACT_ASSERT_OK(page);
    EXPECT_LE(page->size(), 3u);
    if (page->empty()) break;
    for (const auto& image : *page) {
      EXPECT_GT(image.id, 0);
      EXPECT_FALSE(image.path.empty());
      seen.push_back(image.sha256);
    }
    after = page->back().sha256;
  }
  const std::vector<std::string> expected = {sha_of(1300), sha_of(1301), sha_of(1302), sha_of(1304),
                                             sha_of(1306), sha_of(1308), sha_of(1309)};
  EXPECT_EQ(seen, expected);

  auto limited = cat().images_missing_embedding(kFingerprint, sha_of(1304), 2);
  CONTRACT_ASSERT_OK(limited);
  ASSERT_EQ(limited->size(), 2u);
  EXPECT_EQ((*limited)[0].sha256, sha_of(1306));
  EXPECT_EQ((*limited)[1].sha256, sha_of(1308));

  CONTRACT_ASSERT_OK(
      cat().put_embeddings(std::vector<Embedding>{make_embedding(sha_of(1300), kFingerprint, 5)}));
  auto rest = cat().images_missing_embedding(kFingerprint, "", 100);
  CONTRACT_ASSERT_OK(rest);
  EXPECT_EQ(rest->size(), 6u);
  EXPECT_EQ(rest->front().sha256, sha_of(1301));
  auto other = cat().images_missing_embedding(kOtherFingerprint, "", 100);
  CONTRACT_ASSERT_OK(other);
  EXPECT_EQ(other->size(), 9u);
  CONTRACT_EXPECT_ERROR(cat().images_missing_embedding(kFingerprint, "", -1),
                        ErrorCode::kInvalidArgument);
}

TEST_P(CatalogContractTest, DeleteOtherEmbeddingsKeepsOnlyOneFingerprint) {
  CONTRACT_ASSERT_OK(cat().put_embeddings(std::vector<Embedding>{
      make_embedding(sha_of(1), kFingerprint, 1), make_embedding(sha_of(2), kFingerprint, 2),
      make_embedding(sha_of(1), kOtherFingerprint, 3),
      make_embedding(sha_of(3), kOtherFingerprint, 4),
      make_embedding(sha_of(3), "third@test", 5)}));
  auto deleted = cat().delete_other_embeddings(kFingerprint);
  CONTRACT_ASSERT_OK(deleted);
  EXPECT_EQ(*deleted, 3);
  EXPECT_EQ(stats().embeddings, 2);
  auto has = cat().has_embedding(sha_of(1), kFingerprint);
  CONTRACT_ASSERT_OK(has);
  EXPECT_TRUE(*has);
  has = cat().has_embedding(sha_of(1), kOtherFingerprint);
  CONTRACT_ASSERT_OK(has);
  EXPECT_FALSE(*has);
  auto again = cat().delete_other_embeddings(kFingerprint);
  CONTRACT_ASSERT_OK(again);
  EXPECT_EQ(*again, 0);
}

// --- index feeds --------------------------------------------------------------------------------

TEST_P(CatalogContractTest, ChangeLogIsStrictlyIncreasingAndReflectsEveryWrite) {
  std::int64_t last = last_seq();
  auto expect_advanced = [&](const char* what) {
    std::int64_t now = last_seq();
    EXPECT_GT(now, last) << what;
    EXPECT_EQ(stats().last_change_seq, now) << what;
    last = now;
  };
  Product p = write_one(make_write("log", 2, 1400, /*with_embeddings=*/false));
  expect_advanced("write_products");
  Product edit = p;
  edit.title = "edited";
  CONTRACT_ASSERT_OK(cat().update_product(edit));
  expect_advanced("update_product");
  auto added = cat().add_image(p.id, make_image("log", 3, sha_of(1402)), std::nullopt);
  CONTRACT_ASSERT_OK(added);
  expect_advanced("add_image");
  CONTRACT_ASSERT_OK(
      cat().put_embeddings(std::vector<Embedding>{make_embedding(sha_of(1400), kFingerprint, 1)}));
  expect_advanced("put_embeddings");
  CONTRACT_ASSERT_OK(cat().delete_image(added->id));
  expect_advanced("delete_image");
  CONTRACT_ASSERT_OK(cat().delete_product(p.id));
  expect_advanced("delete_product");

  // create_product of a product without images has nothing for an index.
  create("no-images");
  EXPECT_EQ(last_seq(), last);

  std::vector<IndexChange> all = changes_after(0);
  ASSERT_FALSE(all.empty());
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i].seq, all[i - 1].seq);
  EXPECT_EQ(all.back().seq, last);
  EXPECT_GT(all.front().seq, 0);

  // Paging through changes_since gives the same entries.
  std::vector<IndexChange> paged;
  std::int64_t after = 0;
  while (true) {
    auto page = cat().changes_since(after, 2);
    CONTRACT_ASSERT_OK(page);
    EXPECT_LE(page->size(), 2u);
    if (page->empty()) break;
    paged.insert(paged.end(), page->begin(), page->end());
    after = page->back().seq;
  }
  ASSERT_EQ(paged.size(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(paged[i].seq, all[i].seq);
    EXPECT_EQ(paged[i].image_id, all[i].image_id);
    EXPECT_EQ(paged[i].kind, all[i].kind);
  }
  auto none = cat().changes_since(last, 10);
  CONTRACT_ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
  CONTRACT_EXPECT_ERROR(cat().changes_since(0, -1), ErrorCode::kInvalidArgument);

  // The last entries are the deletes of the product's two remaining images.
  ASSERT_GE(all.size(), 2u);
  EXPECT_EQ(all[all.size() - 1].kind, IndexChange::Kind::kDelete);
  EXPECT_EQ(all[all.size() - 2].kind, IndexChange::Kind::kDelete);
}

TEST_P(CatalogContractTest, IndexEntriesCarryTheProductPayloadAndSkipImagesWithoutEmbedding) {
  ProductWrite write = make_write("entries", 3, 1500);
  write.product.category = "bags";
  write.product.price_cents = 4200;
  write.product.currency = "EUR";
  write.embeddings.pop_back();  // image 3 has no embedding
  Product product = write_one(write);
  ProductWrite noprice_write = make_write("entries-noprice", 1, 1510);
  noprice_write.product.price_cents.reset();
  noprice_write.product.category.clear();
  noprice_write.product.currency.clear();
  Product noprice = write_one(noprice_write);
  std::vector<ProductImage> images = images_of(product.id);
  std::vector<ProductImage> noprice_images = images_of(noprice.id);
  ASSERT_EQ(images.size(), 3u);
  CONTRACT_ASSERT_OK(cat().put_embeddings(
      std::vector<Embedding>{make_embedding(sha_of(1502), kOtherFingerprint, 9)}));

  const std::vector<std::int64_t> ids = {noprice_images[0].id, images[2].id, images[1].id,
                                         images[0].id, images[0].id + 10'000};
  auto entries = cat().index_entries(ids, kFingerprint);
  CONTRACT_ASSERT_OK(entries);
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].image_id, noprice_images[0].id) << "in the order given";
  EXPECT_EQ((*entries)[1].image_id, images[1].id);
  EXPECT_EQ((*entries)[2].image_id, images[0].id);
  const IndexEntry& e = (*entries)[2];
  EXPECT_EQ(e.product_id, product.id);
  EXPECT_EQ(e.external_id, "entries");
  EXPECT_EQ(e.category, "bags");
  EXPECT_EQ(e.price_cents, std::optional<std::int64_t>(4200));
  EXPECT_EQ(e.currency, "EUR");
  EXPECT_TRUE(bit_equal(e.vector, write.embeddings[0].vector));
  const IndexEntry& n = (*entries)[0];
  EXPECT_EQ(n.category, "");
  EXPECT_FALSE(n.price_cents.has_value());
  EXPECT_EQ(n.currency, "");

  auto other = cat().index_entries(ids, kOtherFingerprint);
  CONTRACT_ASSERT_OK(other);
  ASSERT_EQ(other->size(), 1u);
  EXPECT_EQ(other->front().image_id, images[2].id);

  CONTRACT_ASSERT_OK(cat().delete_image(images[1].id));
  auto after_delete = cat().index_entries(ids, kFingerprint);
  CONTRACT_ASSERT_OK(after_delete);
  EXPECT_EQ(after_delete->size(), 2u);
  auto empty = cat().index_entries({}, kFingerprint);
  CONTRACT_ASSERT_OK(empty);
  EXPECT_TRUE(empty->empty());
}

TEST_P(CatalogContractTest, ScanIndexEntriesPagesInImageIdOrder) {
  std::vector<std::int64_t> expected;
  for (int p = 0; p < 10; ++p) {
    ProductWrite write = make_write("scan-" + std::to_string(p), 3, 1600 + p * 3);
    if (p % 4 == 0) write.embeddings.erase(write.embeddings.begin());  // first image not embedded
    Product product = write_one(write);
    std::vector<ProductImage> images = images_of(product.id);
    for (std::size_t i = 0; i < images.size(); ++i) {
      if (p % 4 == 0 && i == 0) continue;
      expected.push_back(images[i].id);
    }
  }
  std::sort(expected.begin(), expected.end());

  std::vector<std::int64_t> seen;
  std::int64_t after = 0;
  for (int pages = 0; pages < 100; ++pages) {
    auto page = cat().scan_index_entries(kFingerprint, after, 7);
    CONTRACT_ASSERT_OK(page);
    EXPECT_LE(page->size(), 7u);
    if (page->empty()) break;
    for (const auto& entry : *page) {
      seen.push_back(entry.image_id);
      EXPECT_GT(entry.product_id, 0);
      EXPECT_FALSE(entry.external_id.empty());
      EXPECT_EQ(entry.vector.size(), 8u);
    }
    after = page->back().image_id;
  }
  EXPECT_EQ(seen, expected);
  auto other = cat().scan_index_entries(kOtherFingerprint, 0, 100);
  CONTRACT_ASSERT_OK(other);
  EXPECT_TRUE(other->empty());
  CONTRACT_EXPECT_ERROR(cat().scan_index_entries(kFingerprint, 0, -1), ErrorCode::kInvalidArgument);
}

TEST_P(CatalogContractTest, IndexAppliedSeqIsPersistedPerIndex) {
  auto initial = cat().index_applied_seq("qdrant");
  CONTRACT_ASSERT_OK(initial);
  EXPECT_EQ(*initial, 0);
  CONTRACT_ASSERT_OK(cat().set_index_applied_seq("qdrant", 42));
  CONTRACT_ASSERT_OK(cat().set_index_applied_seq("embedded", 7));
  auto q = cat().index_applied_seq("qdrant");
  CONTRACT_ASSERT_OK(q);
  EXPECT_EQ(*q, 42);
  CONTRACT_ASSERT_OK(cat().set_index_applied_seq("qdrant", 1'000'000'000'000LL));
  q = cat().index_applied_seq("qdrant");
  CONTRACT_ASSERT_OK(q);
  EXPECT_EQ(*q, 1'000'000'000'000LL);
  auto e = cat().index_applied_seq("embedded");
  CONTRACT_ASSERT_OK(e);
  EXPECT_EQ(*e, 7);
  CONTRACT_EXPECT_ERROR(cat().set_index_applied_seq("", 1), ErrorCode::kInvalidArgument);
  CONTRACT_EXPECT_ERROR(cat().set_index_applied_seq("qdrant", -1), ErrorCode::kInvalidArgument);
}

TEST_P(CatalogContractTest, StatsCountEverything) {
  write_one(make_write("s1", 3, 1700));
  ProductWrite s2 = make_write("s2", 2, 1700, /*with_embeddings=*/false);  // same bytes as s1
  write_one(s2);
  create("s3");
  CONTRACT_ASSERT_OK(cat().put_embeddings(
      std::vector<Embedding>{make_embedding(sha_of(1700), kOtherFingerprint, 1)}));
  CatalogStats s = stats();
  EXPECT_EQ(s.products, 3);
  EXPECT_EQ(s.images, 5);
  EXPECT_EQ(s.distinct_images, 3);
  EXPECT_EQ(s.embeddings, 4);
  EXPECT_EQ(s.last_change_seq, last_seq());
  EXPECT_GT(s.last_change_seq, 0);
}

// --- concurrency --------------------------------------------------------------------------------

// "t<thread>-<item>", built by appending (GCC 12 warns falsely on chained operator+ here).
inline std::string thread_item_id(int thread, int item) {
  std::string id = "t";
  id += std::to_string(thread);
  id += '-';
  id += std::to_string(item);
  return id;
}

TEST_P(CatalogContractTest, ConcurrentWritesFromFourThreadsLoseNothing) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = thread_item_id(t, i);
        const int sha = 10'000 + t * 1000 + i * 2;
        ProductWrite write = make_write("w-" + id, 2, sha);
        if (!catalog_->write_products(std::span<const ProductWrite>(&write, 1)).ok()) ++failures;
        if (!catalog_->create_product(make_product("c-" + id)).ok()) ++failures;
        if (!catalog_->get_product_by_external_id("w-" + id).ok()) ++failures;
        if (!catalog_->stats().ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  CatalogStats s = stats();
  EXPECT_EQ(s.products, kThreads * kPerThread * 2);
  EXPECT_EQ(s.images, kThreads * kPerThread * 2);
  EXPECT_EQ(s.embeddings, kThreads * kPerThread * 2);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      const std::string id = thread_item_id(t, i);
      EXPECT_TRUE(cat().get_product_by_external_id("w-" + id).ok()) << id;
      EXPECT_TRUE(cat().get_product_by_external_id("c-" + id).ok()) << id;
    }
  }
  std::vector<IndexChange> changes = changes_after(0);
  EXPECT_EQ(changes.size(), static_cast<std::size_t>(kThreads * kPerThread * 2));
  for (std::size_t i = 1; i < changes.size(); ++i) EXPECT_GT(changes[i].seq, changes[i - 1].seq);
}

}  // namespace lookalike::catalog::contract
