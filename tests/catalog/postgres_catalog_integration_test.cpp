// PostgreSQL catalogue against a real PostgreSQL 15 server (tests/postgres_server.h): the seed's
// schema, migrations under concurrent opens, connection loss and recovery, change-log ordering
// under concurrent writers, bulk scans; then the backend-independent contract suite.
#include "catalog/postgres/postgres_catalog.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "catalog/catalog_contract.h"
#include "postgres_server.h"

namespace lookalike::catalog {
namespace {

using contract::make_embedding;
using contract::make_image;
using contract::make_product;
using contract::make_write;
using contract::sha_of;
using testing::PostgresServer;

// Records a fatal failure for the running test: unlike ADD_FAILURE(), it also keeps GoogleTest
// from running the test body after a SetUp() that gives up.
void fail_test(const std::string& message) { FAIL() << message; }

// The server every test of this binary shares (started once); a test fails if it cannot start.
PostgresServer* server() {
  auto shared = PostgresServer::shared();
  if (!shared) {
    fail_test("cannot start PostgreSQL for the tests: " + shared.error().to_string());
    return nullptr;
  }
  return *shared;
}

// "a|b" rows of `sql` in the database at the end of `url`.
std::string query(const std::string& url, const std::string& sql) {
  auto out = server()->query(url.substr(url.rfind('/') + 1), sql);
  EXPECT_TRUE(out.ok()) << out.error().to_string();
  return out.ok() ? *out : "";
}

class PostgresCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(server(), nullptr);
    auto url = server()->fresh_database();
    ASSERT_TRUE(url.ok()) << url.error().to_string();
    url_ = *url;
    auto catalog = open_postgres_catalog(url_);
    ASSERT_TRUE(catalog.ok()) << catalog.error().to_string();
    catalog_ = std::move(catalog).value();
  }

  std::string url_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(PostgresCatalogTest, SchemaMatchesTheSeed) {
  EXPECT_EQ(catalog_->backend_name(), "postgresql");
  const std::string columns = query(
      url_,
      "SELECT column_name || ':' || data_type || ':' || COALESCE(character_maximum_length::text, "
      "'') || ':' || COALESCE(numeric_precision::text, '') || ',' || "
      "COALESCE(numeric_scale::text, '') || ':' || is_nullable FROM information_schema.columns "
      "WHERE table_name = 'products' ORDER BY ordinal_position");
  EXPECT_EQ(columns,
            "id:bigint::64,0:NO\n"
            "external_id:character varying:255:,:NO\n"
            "title:character varying:500:,:NO\n"
            "description:text::,:YES\n"
            "category:character varying:100:,:YES\n"
            "price:numeric::10,2:YES\n"
            "currency:character varying:10:,:YES\n"
            "image_url:text::,:NO\n"
            "product_metadata:jsonb::,:YES\n"
            "created_at:timestamp without time zone::,:YES\n"
            "updated_at:timestamp without time zone::,:YES\n");
  EXPECT_EQ(query(url_,
                  "SELECT indexname FROM pg_indexes WHERE tablename = 'products' AND indexname "
                  "IN ('idx_external_id', 'idx_category') ORDER BY indexname"),
            "idx_category\nidx_external_id\n");
  EXPECT_EQ(query(url_, "SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_category'"),
            "CREATE INDEX idx_category ON public.products USING btree (category)\n");
  EXPECT_EQ(query(url_,
                  "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                  "'public' ORDER BY table_name"),
            "embeddings\nindex_changes\nindex_state\nproduct_images\nproducts\n"
            "schema_migrations\n");
  EXPECT_EQ(query(url_,
                  "SELECT data_type FROM information_schema.columns WHERE table_name = "
                  "'embeddings' AND column_name = 'vector'"),
            "bytea\n");
  EXPECT_EQ(query(url_, "SELECT version FROM schema_migrations"),
            std::to_string(kPostgresSchemaVersion) + "\n");
}

TEST_F(PostgresCatalogTest, ValuesAreStoredAsTheSeedExpects) {
  Product product = make_product("stored-as");
  product.price_cents = 1999;
  product.description.clear();
  product.currency.clear();
  auto created = catalog_->create_product(product);
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  EXPECT_EQ(query(url_,
                  "SELECT price::text, description IS NULL, currency IS NULL, category, "
                  "product_metadata->>'brand', jsonb_typeof(product_metadata) FROM products"),
            "19.99|t|t|shoes|Acme|object\n");
  // Timestamps are UTC: within a minute of the server's clock in UTC.
  EXPECT_EQ(query(url_,
                  "SELECT abs(extract(epoch FROM (created_at - (now() AT TIME ZONE 'UTC')))) "
                  "< 60 FROM products"),
            "t\n");
}

TEST_F(PostgresCatalogTest, VectorsAreFloat32LittleEndianBytea) {
  Embedding embedding{sha_of(1), "fp", {1.0f, -2.5f}};
  ASSERT_TRUE(catalog_->put_embeddings(std::vector<Embedding>{embedding}).ok());
  // 1.0f = 0x3f800000, -2.5f = 0xc0200000, little-endian.
  EXPECT_EQ(query(url_, "SELECT dim, encode(vector, 'hex') FROM embeddings"),
            "2|0000803f000020c0\n");
}

TEST_F(PostgresCatalogTest, ValuesThatLookLikeSqlAreJustValues) {
  Product product = make_product("x'); DROP TABLE products; --");
  product.title = "\"quoted\" 'single' \\backslash $1 {a,b} NULL";
  product.category = "{\"a\",\"b\"}";
  auto created = catalog_->create_product(product);
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  auto got = catalog_->get_product_by_external_id(product.external_id);
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  EXPECT_EQ(got->title, product.title);
  ProductWrite write = make_write(product.external_id, 1, 5);
  write.product = product;
  auto written = catalog_->write_products(std::span<const ProductWrite>(&write, 1));
  ASSERT_TRUE(written.ok()) << written.error().to_string();
  EXPECT_EQ(written->front().id, created->id);
  EXPECT_EQ(written->front().category, product.category);
  auto page = catalog_->list_products(0, 10, product.category);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 1);
}

TEST_F(PostgresCatalogTest, AProductTwiceInOneBatchEndsAsItsLastWrite) {
  std::vector<ProductWrite> batch = {make_write("twice", 2, 10), make_write("other", 1, 20),
                                     make_write("twice", 1, 30)};
  batch[0].product.title = "first";
  batch[2].product.title = "second";
  auto stored = catalog_->write_products(batch);
  ASSERT_TRUE(stored.ok()) << stored.error().to_string();
  ASSERT_EQ(stored->size(), 3u);
  EXPECT_EQ((*stored)[0].id, (*stored)[2].id);
  EXPECT_EQ((*stored)[2].title, "second");
  auto images = catalog_->list_images((*stored)[2].id);
  ASSERT_TRUE(images.ok());
  ASSERT_EQ(images->size(), 1u);
  EXPECT_EQ(images->front().sha256, sha_of(30));
  // Embeddings of every write are stored, the earlier one's included.
  auto has = catalog_->has_embedding(sha_of(10), contract::kFingerprint);
  ASSERT_TRUE(has.ok());
  EXPECT_TRUE(*has);
}

TEST_F(PostgresCatalogTest, NulBytesInTextAreInvalidArguments) {
  Product product = make_product("nul");
  product.title = std::string("before\0after", 12);
  auto created = catalog_->create_product(product);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, ErrorCode::kInvalidArgument) << created.error().to_string();
  product = make_product("nul");
  product.metadata = {{"key", std::string("a\0b", 3)}};
  ProductWrite write = make_write("nul", 1, 1);
  write.product = product;
  auto written = catalog_->write_products(std::span<const ProductWrite>(&write, 1));
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, ErrorCode::kInvalidArgument) << written.error().to_string();
  auto stats = catalog_->stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->products, 0);
}

TEST_F(PostgresCatalogTest, CataloguesOpeningAFreshDatabaseTogetherAllSucceed) {
  auto url = server()->fresh_database();
  ASSERT_TRUE(url.ok()) << url.error().to_string();
  constexpr int kOpeners = 6;
  std::vector<std::unique_ptr<Catalog>> catalogs(kOpeners);
  std::vector<std::string> errors(kOpeners);
  std::vector<std::thread> threads;
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&, i] {
      auto catalog = open_postgres_catalog(*url);
      if (catalog.ok()) {
        catalogs[i] = std::move(catalog).value();
      } else {
        errors[i] = catalog.error().to_string();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < kOpeners; ++i) EXPECT_NE(catalogs[i], nullptr) << errors[i];
  EXPECT_EQ(query(*url, "SELECT count(*) FROM schema_migrations"), "1\n");
  // Any of them writes, every other one reads it.
  ASSERT_NE(catalogs[0], nullptr);
  auto created = catalogs[0]->create_product(make_product("shared"));
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  for (const auto& catalog : catalogs) {
    if (catalog == nullptr) continue;
    auto got = catalog->get_product(created->id);
    EXPECT_TRUE(got.ok());
  }
}

TEST_F(PostgresCatalogTest, ReopeningKeepsTheDataAndTheSchemaVersion) {
  auto created = catalog_->create_product(make_product("kept"));
  ASSERT_TRUE(created.ok());
  catalog_.reset();
  auto reopened = open_postgres_catalog(url_);
  ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
  auto got = (*reopened)->get_product_by_external_id("kept");
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  EXPECT_EQ(got->id, created->id);
  EXPECT_EQ(query(url_, "SELECT count(*) FROM schema_migrations"), "1\n");
}

TEST_F(PostgresCatalogTest, ANewerSchemaIsRefused) {
  query(url_, "INSERT INTO schema_migrations (version) VALUES (999)");
  auto reopened = open_postgres_catalog(url_);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(reopened.error().message.find("999"), std::string::npos) << reopened.error().message;
}

TEST(PostgresCatalogOpenTest, OtherSchemesAreInvalidArguments) {
  for (const char* url : {"", "sqlite:///tmp/x.db", "mysql://u@h/db", "http://host/db"}) {
    auto catalog = open_postgres_catalog(url);
    ASSERT_FALSE(catalog.ok()) << url;
    EXPECT_EQ(catalog.error().code, ErrorCode::kInvalidArgument) << url;
  }
}

TEST(PostgresCatalogOpenTest, AnUnreachableServerIsANetworkErrorWithoutThePassword) {
  ASSERT_NE(server(), nullptr);
  // Nothing listens on port 1 of 127.0.0.1.
  auto catalog = open_postgres_catalog("postgres://alice:s3cret-pass@127.0.0.1:1/catalog");
  ASSERT_FALSE(catalog.ok());
  EXPECT_EQ(catalog.error().code, ErrorCode::kNetwork) << catalog.error().to_string();
  EXPECT_NE(catalog.error().message.find("127.0.0.1"), std::string::npos)
      << catalog.error().message;
  EXPECT_EQ(catalog.error().message.find("s3cret-pass"), std::string::npos)
      << catalog.error().message;
  // A database that does not exist is refused by the server.
  auto missing = open_postgres_catalog(server()->url("no_such_database"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNetwork) << missing.error().to_string();
  EXPECT_NE(missing.error().message.find("no_such_database"), std::string::npos);
}

TEST_F(PostgresCatalogTest, KilledSessionsAreReplacedTransparently) {
  auto created = catalog_->create_product(make_product("before-kill"));
  ASSERT_TRUE(created.ok());
  // Kill every session of this database (as an administrator or a failover would).
  const std::string db = url_.substr(url_.rfind('/') + 1);
  query(url_, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" +
                  db + "' AND pid <> pg_backend_pid()");
  for (int i = 0; i < 3; ++i) {
    auto got = catalog_->get_product(created->id);
    ASSERT_TRUE(got.ok()) << got.error().to_string();
  }
  ProductWrite write = make_write("after-kill", 2, 10);
  auto written = catalog_->write_products(std::span<const ProductWrite>(&write, 1));
  ASSERT_TRUE(written.ok()) << written.error().to_string();
}

TEST(PostgresCatalogRestartTest, ServerLossIsANetworkErrorAndTheCatalogueRecoversAfterRestart) {
  auto own = PostgresServer::start();
  ASSERT_TRUE(own.ok()) << own.error().to_string();
  PostgresServer& pg = **own;
  auto url = pg.fresh_database();
  ASSERT_TRUE(url.ok()) << url.error().to_string();
  auto catalog = open_postgres_catalog(*url);
  ASSERT_TRUE(catalog.ok()) << catalog.error().to_string();
  auto created = (*catalog)->create_product(make_product("survivor"));
  ASSERT_TRUE(created.ok());

  ASSERT_TRUE(pg.stop().ok());
  auto lost = (*catalog)->get_product(created->id);
  ASSERT_FALSE(lost.ok());
  EXPECT_TRUE(lost.error().code == ErrorCode::kNetwork || lost.error().code == ErrorCode::kIoError)
      << lost.error().to_string();
  ProductWrite write = make_write("during-outage", 1, 20);
  auto failed = (*catalog)->write_products(std::span<const ProductWrite>(&write, 1));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kNetwork) << failed.error().to_string();

  ASSERT_TRUE(pg.start_again().ok());
  auto back = (*catalog)->get_product(created->id);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->external_id, "survivor");
  auto written = (*catalog)->write_products(std::span<const ProductWrite>(&write, 1));
  ASSERT_TRUE(written.ok()) << written.error().to_string();
  auto stats = (*catalog)->stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->products, 2);
}

// A reader that follows the change log while writers commit concurrently must see every change:
// a seq that became visible before a smaller one would be skipped for good.
TEST_F(PostgresCatalogTest, ChangeLogReadersNeverSkipASeqUnderConcurrentWriters) {
  constexpr int kWriters = 4;
  constexpr int kWritesEach = 30;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kWritesEach; ++i) {
        std::string external_id = "w";
        external_id += std::to_string(w);
        external_id += '-';
        external_id += std::to_string(i);
        std::vector<ProductWrite> batch = {make_write(external_id, 2, 100'000 + w * 1000 + i * 2)};
        if (!catalog_->write_products(batch).ok()) ++failures;
      }
    });
  }
  std::set<std::int64_t> seen;
  std::int64_t after = 0;
  auto follow = [&] {
    while (true) {
      auto page = catalog_->changes_since(after, 1000);
      if (!page.ok()) {
        ++failures;
        return;
      }
      if (page->empty()) return;
      for (const auto& change : *page) seen.insert(change.seq);
      after = page->back().seq;
    }
  };
  std::thread reader([&] {
    while (!done.load()) follow();
  });
  for (auto& writer : writers) writer.join();
  done = true;
  reader.join();
  follow();
  EXPECT_EQ(failures.load(), 0);
  auto all = catalog_->changes_since(0, 1'000'000);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), static_cast<std::size_t>(kWriters * kWritesEach * 2));
  std::set<std::int64_t> expected;
  for (const auto& change : *all) expected.insert(change.seq);
  EXPECT_EQ(seen, expected);
}

// Bulk ingestion in batches of 64 products x 4 images (512-d vectors) and a paged rebuild scan.
TEST_F(PostgresCatalogTest, BulkWritesAndScansAreFast) {
  constexpr int kBatches = 40;
  constexpr int kProducts = 64;
  constexpr int kImages = 4;
  constexpr int kDim = 512;
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  int sha = 0;
  for (int b = 0; b < kBatches; ++b) {
    std::vector<ProductWrite> batch;
    for (int p = 0; p < kProducts; ++p) {
      ProductWrite write = make_write("bulk-" + std::to_string(b) + "-" + std::to_string(p), 0, 0);
      for (int i = 1; i <= kImages; ++i) {
        write.images.push_back(make_image(write.product.external_id, i, sha_of(++sha)));
        write.embeddings.push_back(make_embedding(sha_of(sha), "bulk", sha, kDim));
      }
      batch.push_back(std::move(write));
    }
    auto stored = catalog_->write_products(batch);
    ASSERT_TRUE(stored.ok()) << stored.error().to_string();
  }
  const double write_s = std::chrono::duration<double>(Clock::now() - start).count();

  start = Clock::now();
  std::int64_t after = 0;
  std::size_t total = 0;
  while (true) {
    auto page = catalog_->scan_index_entries("bulk", after, 2000);
    ASSERT_TRUE(page.ok()) << page.error().to_string();
    if (page->empty()) break;
    total += page->size();
    ASSERT_EQ(page->back().vector.size(), static_cast<std::size_t>(kDim));
    after = page->back().image_id;
  }
  const double scan_s = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(total, static_cast<std::size_t>(kBatches * kProducts * kImages));
  std::printf("[ bulk     ] wrote %d images in %.2f s (%.0f/s); scanned them in %.3f s (%.0f/s)\n",
              kBatches * kProducts * kImages, write_s, kBatches * kProducts * kImages / write_s,
              scan_s, static_cast<double>(total) / scan_s);
  EXPECT_LT(scan_s, 10.0);
}

}  // namespace

// --- the backend-independent contract ------------------------------------------------------------

namespace contract {

INSTANTIATE_TEST_SUITE_P(Postgres, CatalogContractTest,
                         ::testing::Values(CatalogBackend{
                             "postgresql",
                             []() -> std::unique_ptr<Catalog> {
                               PostgresServer* pg = server();
                               if (pg == nullptr) return nullptr;  // server() recorded a failure
                               auto url = pg->fresh_database();
                               if (!url) {
                                 fail_test(url.error().to_string());
                                 return nullptr;
                               }
                               auto catalog = open_postgres_catalog(*url);
                               if (!catalog) {
                                 fail_test(catalog.error().to_string());
                                 return nullptr;
                               }
                               return std::move(catalog).value();
                             }}),
                         backend_test_name);

}  // namespace contract

}  // namespace lookalike::catalog
