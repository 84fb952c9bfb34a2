// The embedded (hnswlib) backend: the VectorIndex contract on its exact and HNSW paths, then
// recall, persistence, crash safety, fingerprint changes and concurrency.
#include "index/embedded/embedded_index.h"

#include <atomic>
#include <fstream>
#include <thread>

#include "test_support.h"
#include "vector_index_contract.h"

namespace lookalike::index::contract {
namespace {

namespace fs = std::filesystem;
using embedded::EmbeddedIndex;
using lookalike::testing::TempDir;

IndexOptions options_for(int dimension, std::int64_t exact_below, const std::string& dir = "") {
  IndexOptions options;
  options.dimension = dimension;
  options.fingerprint = "test-model";
  options.directory = dir;
  options.hnsw.exact_below = exact_below;
  return options;
}

std::unique_ptr<VectorIndex> open_or_fail(const IndexOptions& options) {
  auto index = open_embedded_index(options);
  if (!index) {
    ADD_FAILURE() << index.error().to_string();
    return nullptr;
  }
  return std::move(*index);
}

// The default planner (exact below 20000 points) and one that always takes the HNSW path.
INSTANTIATE_TEST_SUITE_P(
    Embedded, VectorIndexContractTest,
    ::testing::Values(
        IndexBackend{"exact",
                     [](int dimension) { return open_or_fail(options_for(dimension, 20000)); }},
        IndexBackend{"hnsw",
                     [](int dimension) { return open_or_fail(options_for(dimension, 0)); }}),
    backend_name);

// Unit vectors around `clusters` random centres (closer to CLIP embeddings than uniform ones),
// ten categories, a price on most, product = id / images_per_product.
std::vector<Point> clustered(int count, int dimension, int clusters, std::uint32_t seed,
                             int images_per_product = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> centres(static_cast<std::size_t>(clusters) * dimension);
  for (float& v : centres) v = normal(rng);
  const float noise = 1.0f;
  std::vector<Point> points(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    Point& p = points[static_cast<std::size_t>(i)];
    p.id = i + 1;
    const float* centre = centres.data() + static_cast<std::size_t>(rng() % clusters) * dimension;
    p.vector.resize(static_cast<std::size_t>(dimension));
    double norm = 0;
    for (int d = 0; d < dimension; ++d) {
      p.vector[d] = centre[d] + noise * normal(rng);
      norm += static_cast<double>(p.vector[d]) * p.vector[d];
    }
    for (float& v : p.vector) v = static_cast<float>(v / std::sqrt(norm));
    p.payload.product_id = i / images_per_product + 1;
    p.payload.category = "c" + std::to_string(rng() % 10);
    if (rng() % 5 != 0) p.payload.price_cents = static_cast<std::int64_t>(rng() % 100000);
  }
  return points;
}

// `count` points and `queries` held-out query vectors drawn from the same mixture.
std::pair<std::vector<Point>, std::vector<Point>> data_and_queries(int count, int queries,
                                                                   int dimension, int clusters,
                                                                   std::uint32_t seed,
                                                                   int images_per_product = 1) {
  auto all = clustered(count + queries, dimension, clusters, seed, images_per_product);
  std::vector<Point> held_out(all.begin() + count, all.end());
  all.resize(static_cast<std::size_t>(count));
  return {all, held_out};
}

double mean_recall(const VectorIndex& index, const std::vector<Point>& queries, SearchQuery q) {
  double total = 0;
  for (const Point& query : queries) {
    q.vector = query.vector;
    q.exact = true;
    auto expected = index.search(q);
    q.exact = false;
    auto got = index.search(q);
    EXPECT_TRUE(expected.ok() && got.ok());
    if (!expected.ok() || !got.ok()) return 0;
    total += recall(*got, *expected);
  }
  return total / static_cast<double>(queries.size());
}

class EmbeddedIndexTest : public ::testing::Test {
 protected:
  std::unique_ptr<VectorIndex> open(std::int64_t exact_below = 0, int dimension = kDim) {
    return open_or_fail(options_for(dimension, exact_below, dir_.path().string()));
  }
  std::vector<std::int64_t> top_ids(const VectorIndex& index, const std::vector<float>& query,
                                    int limit = 10) {
    SearchQuery q;
    q.vector = query;
    q.limit = limit;
    auto hits = index.search(q);
    EXPECT_TRUE(hits.ok());
    return hits.ok() ? ids_of(*hits) : std::vector<std::int64_t>();
  }
  // A flushed index of 500 points at applied seq 7.
  std::vector<Point> write_one_generation() {
    auto index = open();
    auto points = make_points(500);
    EXPECT_TRUE(index->upsert(points).ok());
    EXPECT_TRUE(index->set_applied_seq(7).ok());
    EXPECT_TRUE(index->flush().ok());
    return points;
  }
  fs::path gen(int n) const { return dir_ / ("gen-" + std::to_string(n)); }

  TempDir dir_;
};

TEST_F(EmbeddedIndexTest, RecallOnClusteredVectors) {
  const auto [points, queries] = data_and_queries(20000, 100, 128, 200, 1);
  auto index = open_or_fail(options_for(128, 0));
  ASSERT_TRUE(index->upsert(points).ok());
  auto info = index->info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->kind, "hnsw");
  SearchQuery q;
  q.limit = 20;
  EXPECT_GE(mean_recall(*index, queries, q), 0.98);
  q.filter.category = "c3";  // about 10% of the points
  EXPECT_GE(mean_recall(*index, queries, q), 0.95);
  q.filter = {};
  q.filter.min_price_cents = 10000;
  q.filter.max_price_cents = 19999;  // about 8%
  EXPECT_GE(mean_recall(*index, queries, q), 0.95);
}

TEST_F(EmbeddedIndexTest, GroupByProductOnTheHnswPath) {
  const auto [points, queries] = data_and_queries(5000, 20, 32, 50, 3, /*images_per_product=*/8);
  auto index = open_or_fail(options_for(32, 0));
  ASSERT_TRUE(index->upsert(points).ok());
  SearchQuery q;
  q.limit = 20;
  q.group_by_product = true;
  for (const Point& query : queries) {
    q.vector = query.vector;
    auto hits = index->search(q);
    ASSERT_TRUE(hits.ok());
    EXPECT_EQ(hits->size(), 20u);
    std::set<std::int64_t> products;
    for (const auto& hit : *hits) EXPECT_TRUE(products.insert(hit.product_id).second);
  }
  EXPECT_GE(mean_recall(*index, queries, q), 0.95);
}

TEST_F(EmbeddedIndexTest, DeleteThenSearch) {
  const auto [points, queries] = data_and_queries(4000, 30, 32, 40, 5);
  auto index = open_or_fail(options_for(32, 0));
  ASSERT_TRUE(index->upsert(points).ok());
  std::vector<std::int64_t> removed;
  for (const Point& p : points) {
    if (p.id % 2 == 1) removed.push_back(p.id);
  }
  ASSERT_TRUE(index->remove(removed).ok());
  SearchQuery q;
  q.limit = 20;
  for (const Point& query : queries) {
    q.vector = query.vector;
    auto hits = index->search(q);
    ASSERT_TRUE(hits.ok());
    EXPECT_EQ(hits->size(), 20u);
    for (const auto& hit : *hits) EXPECT_EQ(hit.id % 2, 0);
  }
  EXPECT_GE(mean_recall(*index, queries, q), 0.95);
}

TEST_F(EmbeddedIndexTest, RejectsNonFiniteValues) {
  auto index = open();
  auto points = make_points(3);
  points[1].vector[3] = std::numeric_limits<float>::quiet_NaN();
  auto status = index->upsert(points);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(index->info()->points, 0);  // nothing of the batch applied
  std::vector<float> query(kDim, 0.0f);
  query[0] = std::numeric_limits<float>::infinity();
  SearchQuery q;
  q.vector = query;
  auto hits = index->search(q);
  ASSERT_FALSE(hits.ok());
  EXPECT_EQ(hits.error().code, ErrorCode::kInvalidArgument);
  points = make_points(1);
  points[0].id = 0;
  EXPECT_FALSE(index->upsert(points).ok());
}

TEST_F(EmbeddedIndexTest, PersistenceRoundTrip) {
  auto points = make_points(2000);
  std::vector<std::vector<std::int64_t>> expected;
  {
    auto index = open();
    for (std::size_t i = 0; i < points.size(); i += 100) {  // grows past the first capacity
      ASSERT_TRUE(index->upsert(std::span(points).subspan(i, 100)).ok());
    }
    const std::vector<std::int64_t> gone = {5, 6, 7};
    ASSERT_TRUE(index->remove(gone).ok());
    ASSERT_TRUE(index->set_applied_seq(99).ok());
    ASSERT_TRUE(index->flush().ok());
    for (std::uint32_t seed = 0; seed < 5; ++seed)
      expected.push_back(top_ids(*index, unit_vector(seed)));
  }
  EXPECT_TRUE(fs::exists(dir_ / "CURRENT"));
  EXPECT_TRUE(fs::exists(gen(1) / "meta.bin"));
  auto index = open();
  auto info = index->info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->points, 1997);
  EXPECT_EQ(info->applied_seq, 99);
  EXPECT_EQ(info->fingerprint, "test-model");
  EXPECT_TRUE(info->note.empty());
  for (std::uint32_t seed = 0; seed < 5; ++seed) {
    EXPECT_EQ(top_ids(*index, unit_vector(seed)), expected[seed]);
  }
  SearchQuery q;  // payloads survived: filters still work
  const auto query = unit_vector(9);
  q.vector = query;
  q.limit = 30;
  q.filter.category = "bags";
  q.filter.max_price_cents = 5000;
  auto hits = index->search(q);
  ASSERT_TRUE(hits.ok());
  ASSERT_FALSE(hits->empty());
  for (const auto& hit : *hits) EXPECT_TRUE(passes(points[hit.id - 1], q.filter));

  // A second generation replaces the first.
  ASSERT_TRUE(index->upsert(make_points(10, 3)).ok());
  ASSERT_TRUE(index->flush().ok());
  EXPECT_TRUE(fs::exists(gen(2)));
  EXPECT_FALSE(fs::exists(gen(1)));
  EXPECT_EQ(open()->info()->points, 2000);
}

TEST_F(EmbeddedIndexTest, FlushWithoutChangesWritesNothing) {
  write_one_generation();
  auto index = open();
  ASSERT_TRUE(index->flush().ok());
  EXPECT_TRUE(fs::exists(gen(1)));
  EXPECT_FALSE(fs::exists(gen(2)));
}

TEST_F(EmbeddedIndexTest, CompactionDropsDeletedPoints) {
  auto points = clustered(3000, kDim, 30, 8);
  auto index = open();
  ASSERT_TRUE(index->upsert(points).ok());
  std::vector<std::int64_t> removed;
  for (std::int64_t id = 1; id <= 1500; ++id) removed.push_back(id);
  ASSERT_TRUE(index->remove(removed).ok());
  ASSERT_TRUE(index->flush().ok());
  const auto before = top_ids(*index, points[2000].vector);
  auto reopened = open();
  EXPECT_EQ(reopened->info()->points, 1500);
  EXPECT_EQ(top_ids(*reopened, points[2000].vector), before);
  EXPECT_EQ(before.front(), points[2000].id);
  // 1500 slots' worth of graph file, not 3000.
  EXPECT_LT(fs::file_size(gen(1) / "hnsw.bin"), 1500u * (kDim * 4 + 2 * 16 * 4 + 20) + 100000);
}

TEST_F(EmbeddedIndexTest, FingerprintChangeOpensEmpty) {
  write_one_generation();
  auto options = options_for(kDim, 0, dir_.path().string());
  options.fingerprint = "another-model";
  options.dimension = 32;  // a new model may change the dimension too
  auto index = open_or_fail(options);
  ASSERT_NE(index, nullptr);
  auto info = index->info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->points, 0);
  EXPECT_EQ(info->applied_seq, 0);
  EXPECT_NE(info->note.find("fingerprint"), std::string::npos) << info->note;
  ASSERT_TRUE(index->flush().ok());  // replaces the stale generation
  EXPECT_FALSE(fs::exists(gen(1)));
  EXPECT_EQ(open_or_fail(options)->info()->note, "");
}

TEST_F(EmbeddedIndexTest, WrongDimensionWithTheSameFingerprintIsAnError) {
  write_one_generation();
  auto index = open_embedded_index(options_for(32, 0, dir_.path().string()));
  ASSERT_FALSE(index.ok());
  EXPECT_NE(index.error().message.find("meta.bin"), std::string::npos);
}

TEST_F(EmbeddedIndexTest, TruncatedOrGarbageFilesAreErrorsNamingTheFile) {
  write_one_generation();
  const fs::path meta = gen(1) / "meta.bin";
  const fs::path graph = gen(1) / "hnsw.bin";
  const std::string meta_bytes = lookalike::testing::read_bytes(meta);
  const std::string graph_bytes = lookalike::testing::read_bytes(graph);
  auto expect_error_naming = [&](const fs::path& file) {
    auto index = open_embedded_index(options_for(kDim, 0, dir_.path().string()));
    ASSERT_FALSE(index.ok()) << "opened despite a damaged " << file;
    EXPECT_NE(index.error().message.find(file.filename().string()), std::string::npos)
        << index.error().to_string();
  };
  for (std::size_t size :
       {std::size_t{0}, std::size_t{5}, std::size_t{40}, meta_bytes.size() - 1}) {
    lookalike::testing::write_bytes(meta, meta_bytes.substr(0, size));
    expect_error_naming(meta);
  }
  std::mt19937 rng(1);
  for (int i = 0; i < 30; ++i) {  // single flipped bytes anywhere
    std::string damaged = meta_bytes;
    damaged[rng() % damaged.size()] ^= static_cast<char>(1 + rng() % 255);
    lookalike::testing::write_bytes(meta, damaged);
    expect_error_naming(meta);
  }
  std::string future = meta_bytes;
  future[8] = 9;  // format version
  lookalike::testing::write_bytes(meta, future);
  auto index = open_embedded_index(options_for(kDim, 0, dir_.path().string()));
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.error().code, ErrorCode::kUnsupported);
  lookalike::testing::write_bytes(meta, meta_bytes);

  for (std::size_t size : {std::size_t{0}, std::size_t{50}, graph_bytes.size() / 2}) {
    lookalike::testing::write_bytes(graph, graph_bytes.substr(0, size));
    expect_error_naming(graph);
  }
  std::string garbage(graph_bytes.size(), '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  lookalike::testing::write_bytes(graph, garbage);
  expect_error_naming(graph);
  std::string flipped = graph_bytes;
  flipped[flipped.size() / 3] ^= 0x40;
  lookalike::testing::write_bytes(graph, flipped);
  expect_error_naming(graph);
  fs::remove(graph);
  expect_error_naming(graph);

  lookalike::testing::write_bytes(graph, graph_bytes);  // repaired: loads again
  EXPECT_EQ(open()->info()->points, 500);
}

TEST_F(EmbeddedIndexTest, CurrentNamingAMissingGenerationFallsBackOrFails) {
  const auto points = write_one_generation();
  lookalike::testing::write_bytes(dir_ / "CURRENT", "gen-9\n");  // gen-1 is still there
  auto index = open();
  ASSERT_NE(index, nullptr);
  auto info = index->info();
  EXPECT_EQ(info->points, 500);
  EXPECT_EQ(info->applied_seq, 7);
  EXPECT_NE(info->note.find("gen-9"), std::string::npos) << info->note;
  EXPECT_EQ(top_ids(*index, points[3].vector, 1), std::vector<std::int64_t>{points[3].id});
  index.reset();

  fs::remove_all(gen(1));
  auto failed = open_embedded_index(options_for(kDim, 0, dir_.path().string()));
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("gen-9"), std::string::npos) << failed.error().message;

  lookalike::testing::write_bytes(dir_ / "CURRENT", "garbage");
  failed = open_embedded_index(options_for(kDim, 0, dir_.path().string()));
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("CURRENT"), std::string::npos);
}

TEST_F(EmbeddedIndexTest, CrashDuringAFlushLeavesThePreviousGenerationLoadable) {
  write_one_generation();
  // A flush that died after writing part of gen-2 and a CURRENT.tmp, before the switch.
  fs::create_directories(gen(2));
  lookalike::testing::write_bytes(gen(2) / "hnsw.bin", "partial");
  lookalike::testing::write_bytes(dir_ / "CURRENT.tmp", "gen-2\n");
  auto index = open();
  auto info = index->info();
  EXPECT_EQ(info->points, 500);
  EXPECT_EQ(info->applied_seq, 7);
  ASSERT_TRUE(index->set_applied_seq(8).ok());
  ASSERT_TRUE(index->flush().ok());  // a fresh number: never writes into the leftover
  EXPECT_TRUE(fs::exists(gen(3)));
  EXPECT_FALSE(fs::exists(gen(2)));
  EXPECT_FALSE(fs::exists(gen(1)));
  EXPECT_EQ(open()->applied_seq(), 8);
}

TEST_F(EmbeddedIndexTest, SearchesRunWhileWriting) {
  auto index = open_or_fail(options_for(32, 0));
  auto [points, queries] = data_and_queries(6000, 50, 32, 60, 9);
  ASSERT_TRUE(index->upsert(std::span(points).subspan(0, 1000)).ok());
  std::atomic<bool> done{false};
  std::atomic<int> searches{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      SearchQuery q;
      q.limit = 10;
      for (int i = t; !done; ++i) {
        q.vector = queries[static_cast<std::size_t>(i) % queries.size()].vector;
        q.exact = i % 7 == 0;
        q.filter.category = i % 3 == 0 ? "c1" : "";
        q.group_by_product = i % 5 == 0;
        auto hits = index->search(q);
        if (!hits.ok() || hits->size() > 10) ++failures;
        for (const auto& hit : hits.ok() ? *hits : std::vector<SearchHit>()) {
          if (hit.id < 1 || hit.id > 6000) ++failures;
        }
        ++searches;
      }
    });
  }
  for (std::size_t i = 1000; i < points.size(); i += 250) {
    ASSERT_TRUE(index->upsert(std::span(points).subspan(i, 250)).ok());
    std::vector<std::int64_t> gone = {static_cast<std::int64_t>(i),
                                      static_cast<std::int64_t>(i) - 1};
    ASSERT_TRUE(index->remove(gone).ok());
    ASSERT_TRUE(index->upsert(std::span(points).subspan(i - 500, 10)).ok());  // replacements
  }
  done = true;
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(failures, 0);
  EXPECT_GT(searches, 0);
  EXPECT_EQ(index->info()->points, 6000 - 2 * 20);  // re-upserted ids were never removed
}

}  // namespace
}  // namespace lookalike::index::contract
