// SqliteCatalog: the backend-independent contract suite on a fresh SQLite file per test, plus what
// only SQLite has (the file itself: reopening, WAL, migrations, damaged files, crashes).

#include "catalog/sqlite/sqlite_catalog.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "catalog/catalog_contract.h"
#include "catalog/catalog_validation.h"
#include "test_support.h"

namespace lookalike::catalog::contract {
namespace {

using lookalike::testing::TempDir;

std::unique_ptr<Catalog> open_fresh_sqlite() {
  // Each test's directory outlives its catalogue: the fixture destroys the catalogue at the end
  // of the test, and the directory is only dropped when the next test opens its own.
  static std::unique_ptr<TempDir> dir;
  dir.reset();
  dir = std::make_unique<TempDir>();
  auto catalog = open_sqlite_catalog(dir->path() / "catalog.sqlite3");
  if (!catalog.ok()) {
    ADD_FAILURE() << catalog.error().to_string();
    return nullptr;
  }
  return std::move(*catalog);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, CatalogContractTest,
                         ::testing::Values(CatalogBackend{"sqlite", open_fresh_sqlite}),
                         backend_test_name);

// Runs one SQL statement on the file with a separate raw connection; returns the first column of
// the first row as text ("" if none).
std::string query_raw(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  std::string value;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  EXPECT_EQ(rc, SQLITE_OK) << sqlite3_errmsg(db);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(stmt);
    EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sqlite3_errmsg(db);
    if (rc == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

std::unique_ptr<Catalog> must_open(const std::filesystem::path& file) {
  auto catalog = open_sqlite_catalog(file);
  EXPECT_TRUE(catalog.ok()) << catalog.error().to_string();
  return catalog.ok() ? std::move(*catalog) : nullptr;
}

TEST(SqliteCatalogTest, ReopeningKeepsEverything) {
  TempDir dir;
  const auto file = dir / "catalog.sqlite3";
  std::int64_t product_id = 0;
  std::int64_t seq = 0;
  ProductWrite write = make_write("keep", 2, 1);
  {
    auto catalog = must_open(file);
    ASSERT_NE(catalog, nullptr);
    auto stored = catalog->write_products(std::span<const ProductWrite>(&write, 1));
    ASSERT_TRUE(stored.ok()) << stored.error().to_string();
    product_id = stored->front().id;
    ASSERT_TRUE(catalog->set_index_applied_seq("qdrant", 2).ok());
    seq = *catalog->last_change_seq();
  }
  auto catalog = must_open(file);
  ASSERT_NE(catalog, nullptr);
  EXPECT_EQ(catalog->backend_name(), "sqlite");
  auto product = catalog->get_product(product_id);
  ASSERT_TRUE(product.ok()) << product.error().to_string();
  EXPECT_EQ(product->external_id, "keep");
  EXPECT_EQ(product->metadata, write.product.metadata);
  auto images = catalog->list_images(product_id);
  ASSERT_TRUE(images.ok());
  EXPECT_EQ(images->size(), 2u);
  auto embedding = catalog->get_embedding(sha_of(1), kFingerprint);
  ASSERT_TRUE(embedding.ok());
  ASSERT_TRUE(embedding->has_value());
  EXPECT_TRUE(bit_equal((*embedding)->vector, write.embeddings[0].vector));
  EXPECT_EQ(*catalog->last_change_seq(), seq);
  EXPECT_EQ(*catalog->index_applied_seq("qdrant"), 2);

  // Ids are never reused, even for the last row deleted before a reopen.
  ASSERT_TRUE(catalog->delete_product(product_id).ok());
  catalog.reset();
  catalog = must_open(file);
  ASSERT_NE(catalog, nullptr);
  auto next = catalog->create_product(make_product("next"));
  ASSERT_TRUE(next.ok());
  EXPECT_GT(next->id, product_id);
}

TEST(SqliteCatalogTest, UsesWalAndCreatesParentDirectories) {
  TempDir dir;
  const auto file = dir / "a" / "b" / "catalog.sqlite3";
  auto catalog = must_open(file);
  ASSERT_NE(catalog, nullptr);
  EXPECT_TRUE(std::filesystem::exists(file));
  EXPECT_EQ(query_raw(file, "PRAGMA journal_mode"), "wal");
  ASSERT_TRUE(catalog->create_product(make_product("x")).ok());
  EXPECT_TRUE(std::filesystem::exists(file.string() + "-wal"));
}

TEST(SqliteCatalogTest, SchemaMigrationsRecordTheVersionOnce) {
  TempDir dir;
  const auto file = dir / "catalog.sqlite3";
  ASSERT_NE(must_open(file), nullptr);
  ASSERT_NE(must_open(file), nullptr);  // a second open migrates nothing
  EXPECT_EQ(query_raw(file, "SELECT COUNT(*) FROM schema_migrations"),
            std::to_string(kSqliteSchemaVersion));
  EXPECT_EQ(query_raw(file, "SELECT MAX(version) FROM schema_migrations"),
            std::to_string(kSqliteSchemaVersion));
  const std::string applied_at = query_raw(file, "SELECT applied_at FROM schema_migrations");
  EXPECT_TRUE(is_iso_utc(applied_at)) << applied_at;
  for (const char* table :
       {"products", "product_images", "embeddings", "index_changes", "index_state"}) {
    EXPECT_EQ(query_raw(file, std::string("SELECT COUNT(*) FROM sqlite_master WHERE type = "
                                          "'table' AND name = '") +
                                  table + "'"),
              "1")
        << table;
  }
  for (const char* index : {"idx_external_id", "idx_category"}) {
    EXPECT_EQ(query_raw(file, std::string("SELECT COUNT(*) FROM sqlite_master WHERE type = "
                                          "'index' AND name = '") +
                                  index + "'"),
              "1")
        << index;
  }
}

TEST(SqliteCatalogTest, AFileThatIsNotADatabaseIsCorruptData) {
  TempDir dir;
  const auto file = dir / "garbage.sqlite3";
  std::string garbage;
  for (int i = 0; i < 200; ++i) garbage += "this is not a database. ";
  lookalike::testing::write_bytes(file, garbage);
  auto catalog = open_sqlite_catalog(file);
  ASSERT_FALSE(catalog.ok());
  EXPECT_EQ(catalog.error().code, ErrorCode::kCorruptData) << catalog.error().to_string();
  EXPECT_NE(catalog.error().message.find(file.string()), std::string::npos)
      << catalog.error().message;
  EXPECT_EQ(lookalike::testing::read_bytes(file), garbage) << "the file is left alone";
}

TEST(SqliteCatalogTest, ASchemaFromANewerVersionIsFailedPrecondition) {
  TempDir dir;
  const auto file = dir / "catalog.sqlite3";
  ASSERT_NE(must_open(file), nullptr);
  query_raw(file, "INSERT INTO schema_migrations (version, applied_at) VALUES (99, 'later')");
  auto catalog = open_sqlite_catalog(file);
  ASSERT_FALSE(catalog.ok());
  EXPECT_EQ(catalog.error().code, ErrorCode::kFailedPrecondition) << catalog.error().to_string();
  EXPECT_NE(catalog.error().message.find("99"), std::string::npos) << catalog.error().message;
  EXPECT_NE(catalog.error().message.find(file.string()), std::string::npos);
}

TEST(SqliteCatalogTest, AnUncreatableDirectoryIsIoError) {
  TempDir dir;
  lookalike::testing::write_bytes(dir / "file", "x");
  auto catalog = open_sqlite_catalog(dir / "file" / "sub" / "catalog.sqlite3");
  ASSERT_FALSE(catalog.ok());
  EXPECT_EQ(catalog.error().code, ErrorCode::kIoError) << catalog.error().to_string();
}

// A child process writes and dies without closing anything (no checkpoint, WAL left behind).
TEST(SqliteCatalogTest, DataCommittedBeforeAnAbruptExitSurvives) {
  TempDir dir;
  const auto file = dir / "catalog.sqlite3";
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto catalog = open_sqlite_catalog(file);
    if (!catalog.ok()) ::_exit(2);
    std::vector<ProductWrite> batch = {make_write("crash-1", 2, 1), make_write("crash-2", 1, 3)};
    if (!(*catalog)->write_products(batch).ok()) ::_exit(3);
    ::_exit(0);  // no destructors: the connection is never closed
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);

  auto catalog = must_open(file);
  ASSERT_NE(catalog, nullptr);
  CatalogStats stats = *catalog->stats();
  EXPECT_EQ(stats.products, 2);
  EXPECT_EQ(stats.images, 3);
  EXPECT_EQ(stats.embeddings, 3);
  EXPECT_EQ(stats.last_change_seq, 3);
  auto product = catalog->get_product_by_external_id("crash-2");
  ASSERT_TRUE(product.ok());
  EXPECT_TRUE(catalog->create_product(make_product("after")).ok());
}

// A child process writes batches in a loop and is killed mid-way: after reopening, every batch is
// either wholly there or wholly absent.
TEST(SqliteCatalogTest, AKilledWriterLeavesOnlyWholeBatches) {
  TempDir dir;
  const auto file = dir / "catalog.sqlite3";
  ASSERT_NE(must_open(file), nullptr);  // schema created before the race starts
  constexpr int kBatch = 32;
  constexpr int kImages = 3;
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto catalog = open_sqlite_catalog(file);
    if (!catalog.ok()) ::_exit(2);
    for (int b = 0;; ++b) {
      std::vector<ProductWrite> batch;
      for (int i = 0; i < kBatch; ++i) {
        const int n = b * kBatch + i;
        batch.push_back(make_write("kill-" + std::to_string(n), kImages, n * kImages));
      }
      if (!(*catalog)->write_products(batch).ok()) ::_exit(3);
    }
  }
  auto watcher = must_open(file);
  ASSERT_NE(watcher, nullptr);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    auto stats = watcher->stats();
    ASSERT_TRUE(stats.ok()) << stats.error().to_string();
    if (stats->products >= 3 * kBatch) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped on its own: " << status;
  watcher.reset();

  auto catalog = must_open(file);
  ASSERT_NE(catalog, nullptr);
  CatalogStats stats = *catalog->stats();
  EXPECT_GE(stats.products, 3 * kBatch);
  EXPECT_EQ(stats.products % kBatch, 0) << stats.products;
  EXPECT_EQ(stats.images, stats.products * kImages);
  EXPECT_EQ(stats.embeddings, stats.products * kImages);
  auto changes = catalog->changes_since(0, 1'000'000);
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(static_cast<std::int64_t>(changes->size()), stats.images);
  // The catalogue takes writes again.
  ProductWrite write = make_write("kill-after", 1, 999'999);
  EXPECT_TRUE(catalog->write_products(std::span<const ProductWrite>(&write, 1)).ok());
}

TEST(SqliteCatalogTest, TwoCataloguesOnOneFileSeeEachOthersWrites) {
  TempDir dir;
  const auto file = dir / "catalog.sqlite3";
  auto a = must_open(file);
  auto b = must_open(file);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->create_product(make_product("from-a")).ok());
  EXPECT_TRUE(b->get_product_by_external_id("from-a").ok());
  auto dup = b->create_product(make_product("from-a"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, ErrorCode::kAlreadyExists);
}

}  // namespace
}  // namespace lookalike::catalog::contract
