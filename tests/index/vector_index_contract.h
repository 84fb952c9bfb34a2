// The behaviour every VectorIndex backend must have, as value-parameterised GoogleTest cases
// compared with a brute-force scan in double precision. A backend's test file includes this header
// once and instantiates the suite inside the namespace:
//   namespace lookalike::index::contract {
//   INSTANTIATE_TEST_SUITE_P(Qdrant, VectorIndexContractTest, ::testing::Values(IndexBackend{
//       "qdrant", [](int dimension) { return /* a fresh, empty index */; }}), backend_name);
//   }
// Sizes stay small (dimension 16, at most 600 points) so it is quick on a network backend too.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "index/vector_index.h"

namespace lookalike::index::contract {

struct IndexBackend {
  std::string name;  // test-name suffix: letters, digits, underscores
  // A new, empty index of this dimension. Returning nullptr skips the test (a backend whose
  // server is absent); report a real failure with ADD_FAILURE() before returning nullptr.
  std::function<std::unique_ptr<lookalike::index::VectorIndex>(int dimension)> open_fresh;
};

inline std::string backend_name(const ::testing::TestParamInfo<IndexBackend>& info) {
  return info.param.name;
}

inline constexpr int kDim = 16;
inline const std::vector<std::string> kCategories = {"shoes", "bags", "lamps", "chairs"};

// Points 1..count: clustered unit vectors, product = (id + 2) / 3 (three images per product),
// category cycling through kCategories, a price on two points out of three.
inline std::vector<Point> make_points(int count, std::uint32_t seed = 7) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::vector<float>> centres(8, std::vector<float>(kDim));
  for (auto& centre : centres) {
    for (float& v : centre) v = normal(rng);
  }
  std::vector<Point> points;
  for (int i = 1; i <= count; ++i) {
    Point p;
    p.id = i;
    const auto& centre = centres[static_cast<std::size_t>(i) % centres.size()];
    double norm = 0;
    for (int d = 0; d < kDim; ++d) {
      p.vector.push_back(centre[d] + 0.6f * normal(rng));
      norm += static_cast<double>(p.vector.back()) * p.vector.back();
    }
    for (float& v : p.vector) v = static_cast<float>(v / std::sqrt(norm));
    p.payload.product_id = (i + 2) / 3;
    p.payload.external_id = "sku-" + std::to_string(i);
    p.payload.category = kCategories[static_cast<std::size_t>(i) % kCategories.size()];
    if (i % 3 != 0) p.payload.price_cents = (i * 37) % 10000;
    p.payload.currency = "EUR";
    points.push_back(std::move(p));
  }
  return points;
}

inline std::vector<float> unit_vector(std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(kDim);
  double norm = 0;
  for (float& x : v) {
    x = normal(rng);
    norm += static_cast<double>(x) * x;
  }
  for (float& x : v) x = static_cast<float>(x / std::sqrt(norm));
  return v;
}

inline double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += static_cast<double>(a[i]) * b[i];
  return sum;
}

inline bool passes(const Point& p, const SearchFilter& f) {
  if (!f.category.empty() && p.payload.category != f.category) return false;
  if (f.min_price_cents || f.max_price_cents) {
    if (!p.payload.price_cents) return false;
    if (f.min_price_cents && *p.payload.price_cents < *f.min_price_cents) return false;
    if (f.max_price_cents && *p.payload.price_cents > *f.max_price_cents) return false;
  }
  return true;
}

// What a perfect index returns (grouped: each product's best image, best products first).
inline std::vector<SearchHit> brute_force(const std::vector<Point>& points, const SearchQuery& q) {
  const std::vector<float> query(q.vector.begin(), q.vector.end());
  std::vector<SearchHit> all;
  for (const Point& p : points) {
    if (!passes(p, q.filter)) continue;
    const auto score = static_cast<float>(dot(query, p.vector));
    if (q.score_threshold && score < *q.score_threshold) continue;
    all.push_back({p.id, p.payload.product_id, score});
  }
  std::sort(all.begin(), all.end(), [](const SearchHit& a, const SearchHit& b) {
    return a.score > b.score || (a.score == b.score && a.id < b.id);
  });
  std::vector<SearchHit> hits;
  std::set<std::int64_t> products;
  for (const SearchHit& hit : all) {
    if (static_cast<int>(hits.size()) >= q.limit) break;
    if (q.group_by_product && !products.insert(hit.product_id).second) continue;
    hits.push_back(hit);
  }
  return hits;
}

inline std::vector<std::int64_t> ids_of(const std::vector<SearchHit>& hits) {
  std::vector<std::int64_t> ids;
  for (const auto& hit : hits) ids.push_back(hit.id);
  return ids;
}

// Fraction of `expected` ids present in `got`.
inline double recall(const std::vector<SearchHit>& got, const std::vector<SearchHit>& expected) {
  if (expected.empty()) return 1.0;
  std::set<std::int64_t> ids;
  for (const auto& hit : got) ids.insert(hit.id);
  int found = 0;
  for (const auto& hit : expected) found += ids.count(hit.id) ? 1 : 0;
  return static_cast<double>(found) / static_cast<double>(expected.size());
}

class VectorIndexContractTest : public ::testing::TestWithParam<IndexBackend> {
 protected:
  void SetUp() override {
    index_ = GetParam().open_fresh(kDim);
    if (index_ == nullptr) GTEST_SKIP() << GetParam().name << ": backend unavailable";
  }

  void load(int count) {
    points_ = make_points(count);
    auto status = index_->upsert(points_);
    ASSERT_TRUE(status.ok()) << status.error().to_string();
  }

  std::vector<SearchHit> search(const SearchQuery& q) {
    auto hits = index_->search(q);
    EXPECT_TRUE(hits.ok()) << hits.error().to_string();
    return hits.ok() ? *hits : std::vector<SearchHit>();
  }

  // Each checked query, exact and approximate: the exact one must equal brute force (ids, order,
  // scores); the approximate one must find most of it, with correct scores, best first.
  void expect_like_brute_force(SearchQuery q, double min_recall = 0.9) {
    const auto expected = brute_force(points_, q);
    for (bool exact : {true, false}) {
      q.exact = exact;
      const auto got = search(q);
      std::map<std::int64_t, const Point*> by_id;
      for (const Point& p : points_) by_id[p.id] = &p;
      for (std::size_t i = 0; i < got.size(); ++i) {
        ASSERT_TRUE(by_id.count(got[i].id)) << "unknown id " << got[i].id;
        const Point& p = *by_id[got[i].id];
        EXPECT_TRUE(passes(p, q.filter)) << "id " << got[i].id << " fails the filter";
        EXPECT_EQ(got[i].product_id, p.payload.product_id);
        const std::vector<float> query(q.vector.begin(), q.vector.end());
        EXPECT_NEAR(got[i].score, dot(query, p.vector), 1e-4);
        if (q.score_threshold) {
          EXPECT_GE(got[i].score, *q.score_threshold);
        }
        if (i > 0) {
          EXPECT_GE(got[i - 1].score, got[i].score) << "not best first";
        }
      }
      EXPECT_LE(got.size(), static_cast<std::size_t>(q.limit));
      if (exact) {
        EXPECT_EQ(ids_of(got), ids_of(expected)) << "exact search differs from brute force";
      } else {
        EXPECT_GE(recall(got, expected), min_recall);
      }
    }
  }

  std::unique_ptr<VectorIndex> index_;
  std::vector<Point> points_;
};

TEST_P(VectorIndexContractTest, EmptyIndexFindsNothing) {
  const auto query = unit_vector(1);
  SearchQuery q;
  q.vector = query;
  EXPECT_TRUE(search(q).empty());
  auto info = index_->info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->points, 0);
  EXPECT_EQ(info->dimension, kDim);
}

TEST_P(VectorIndexContractTest, TopKMatchesBruteForce) {
  load(600);
  for (std::uint32_t seed = 100; seed < 110; ++seed) {
    const auto query = unit_vector(seed);
    SearchQuery q;
    q.vector = query;
    q.limit = 10;
    expect_like_brute_force(q);
  }
}

TEST_P(VectorIndexContractTest, FindsAStoredVectorFirstWithScoreOne) {
  load(300);
  SearchQuery q;
  q.vector = points_[41].vector;
  q.limit = 3;
  const auto hits = search(q);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].id, points_[41].id);
  EXPECT_NEAR(hits[0].score, 1.0, 1e-4);
}

TEST_P(VectorIndexContractTest, LimitIsRespected) {
  load(100);
  const auto query = unit_vector(3);
  SearchQuery q;
  q.vector = query;
  q.limit = 1;
  EXPECT_EQ(search(q).size(), 1u);
  q.limit = 500;  // more than there are
  EXPECT_EQ(search(q).size(), 100u);
}

TEST_P(VectorIndexContractTest, ScoreThresholdKeepsOnlyCloseHits) {
  load(600);
  const auto query = unit_vector(5);
  SearchQuery q;
  q.vector = query;
  q.limit = 100;
  const auto all = brute_force(points_, q);
  ASSERT_GT(all.size(), 20u);
  q.score_threshold = all[15].score;  // about 16 pass
  expect_like_brute_force(q);
  q.score_threshold = 1.5f;  // nothing can pass
  EXPECT_TRUE(search(q).empty());
}

TEST_P(VectorIndexContractTest, CategoryFilter) {
  load(600);
  const auto query = unit_vector(11);
  SearchQuery q;
  q.vector = query;
  q.limit = 15;
  q.filter.category = "lamps";
  expect_like_brute_force(q);
  q.filter.category = "no such category";
  EXPECT_TRUE(search(q).empty());
}

TEST_P(VectorIndexContractTest, PriceFilters) {
  load(600);
  const auto query = unit_vector(12);
  SearchQuery q;
  q.vector = query;
  q.limit = 15;
  q.filter.min_price_cents = 5000;
  expect_like_brute_force(q);
  q.filter = {};
  q.filter.max_price_cents = 2000;
  expect_like_brute_force(q);
  q.filter.min_price_cents = 1000;  // both bounds, inclusive
  expect_like_brute_force(q);
  q.filter.min_price_cents = q.filter.max_price_cents = points_[0].payload.price_cents;
  const auto hits = search(q);
  ASSERT_FALSE(hits.empty());
  for (const auto& hit : hits)
    EXPECT_EQ(points_[hit.id - 1].payload.price_cents, points_[0].payload.price_cents);
}

TEST_P(VectorIndexContractTest, CategoryAndPriceFilter) {
  load(600);
  const auto query = unit_vector(13);
  SearchQuery q;
  q.vector = query;
  q.limit = 10;
  q.filter.category = "bags";
  q.filter.min_price_cents = 1000;
  q.filter.max_price_cents = 8000;
  expect_like_brute_force(q);
}

TEST_P(VectorIndexContractTest, PointsWithoutPriceNeverMatchAPriceFilter) {
  load(300);
  SearchQuery q;
  q.limit = 300;
  q.filter.min_price_cents = std::numeric_limits<std::int64_t>::min();
  std::vector<float> query;  // q.vector is a span: the floats must outlive every search below
  for (std::uint32_t seed = 20; seed < 23; ++seed) {
    query = unit_vector(seed);
    q.vector = query;
    for (bool exact : {true, false}) {
      q.exact = exact;
      for (const auto& hit : search(q)) {
        EXPECT_TRUE(points_[hit.id - 1].payload.price_cents.has_value()) << "id " << hit.id;
      }
    }
  }
  q.filter = {};
  q.filter.max_price_cents = std::numeric_limits<std::int64_t>::max();
  q.exact = true;
  EXPECT_EQ(search(q).size(), 200u);  // two points out of three have a price
}

TEST_P(VectorIndexContractTest, GroupByProductReturnsEachProductsBestImage) {
  load(600);
  for (std::uint32_t seed = 30; seed < 35; ++seed) {
    const auto query = unit_vector(seed);
    SearchQuery q;
    q.vector = query;
    q.limit = 12;
    q.group_by_product = true;
    expect_like_brute_force(q);
    q.exact = false;
    std::set<std::int64_t> products;
    for (const auto& hit : search(q)) {
      EXPECT_TRUE(products.insert(hit.product_id).second) << "product twice: " << hit.product_id;
    }
    EXPECT_EQ(products.size(), 12u);
  }
}

TEST_P(VectorIndexContractTest, GroupByProductWithFilter) {
  load(600);
  const auto query = unit_vector(36);
  SearchQuery q;
  q.vector = query;
  q.limit = 8;
  q.group_by_product = true;
  q.filter.max_price_cents = 6000;
  expect_like_brute_force(q);
}

TEST_P(VectorIndexContractTest, UpsertOfAnExistingIdReplacesVectorAndPayload) {
  load(300);
  Point moved = points_[9];
  moved.vector = unit_vector(77);
  moved.payload.category = "chairs-replaced";
  moved.payload.product_id = 9999;
  moved.payload.price_cents.reset();
  ASSERT_TRUE(index_->upsert(std::span(&moved, 1)).ok());
  points_[9] = moved;

  SearchQuery q;
  q.vector = moved.vector;
  q.limit = 5;
  for (bool exact : {true, false}) {
    q.exact = exact;
    const auto hits = search(q);
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits[0].id, moved.id);
    EXPECT_EQ(hits[0].product_id, 9999);
    EXPECT_NEAR(hits[0].score, 1.0, 1e-4);
  }
  q.filter.category = "chairs-replaced";
  EXPECT_EQ(ids_of(search(q)), std::vector<std::int64_t>{moved.id});
  q.filter = {};
  q.filter.min_price_cents = 0;  // it has no price any more
  for (const auto& hit : search(q)) EXPECT_NE(hit.id, moved.id);
  q.filter = {};
  // The old vector no longer finds it first.
  const auto old = make_points(300)[9];
  q.vector = old.vector;
  const auto hits = search(q);
  ASSERT_FALSE(hits.empty());
  EXPECT_NE(hits[0].id, moved.id);
  auto info = index_->info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->points, 300);
  expect_like_brute_force(q);
}

TEST_P(VectorIndexContractTest, RepeatedIdInOneBatchKeepsTheLast) {
  std::vector<Point> batch = make_points(2);
  batch[1].id = batch[0].id;
  ASSERT_TRUE(index_->upsert(batch).ok());
  auto info = index_->info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->points, 1);
  SearchQuery q;
  q.vector = batch[1].vector;
  q.limit = 1;
  q.exact = true;
  const auto hits = search(q);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_NEAR(hits[0].score, 1.0, 1e-4);
}

TEST_P(VectorIndexContractTest, RemovedPointsAreNeverReturned) {
  load(600);
  std::vector<std::int64_t> removed;
  for (std::int64_t id = 1; id <= 600; id += 2) removed.push_back(id);
  removed.push_back(123456);  // unknown ids are ignored
  ASSERT_TRUE(index_->remove(removed).ok());
  std::vector<Point> kept;
  for (const Point& p : points_) {
    if (p.id % 2 == 0) kept.push_back(p);
  }
  points_ = kept;
  auto info = index_->info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->points, 300);
  for (std::uint32_t seed = 40; seed < 45; ++seed) {
    const auto query = unit_vector(seed);
    SearchQuery q;
    q.vector = query;
    q.limit = 20;
    expect_like_brute_force(q);
    q.group_by_product = true;
    expect_like_brute_force(q);
  }
  SearchQuery q;
  const auto regenerated = make_points(600);
  q.vector = regenerated[0].vector;  // a removed point's own vector (kept alive: a span)
  q.limit = 300;
  for (const auto& hit : search(q)) EXPECT_EQ(hit.id % 2, 0);
}

TEST_P(VectorIndexContractTest, ClearRemovesEverything) {
  load(200);
  ASSERT_TRUE(index_->clear().ok());
  auto info = index_->info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->points, 0);
  const auto query = unit_vector(50);
  SearchQuery q;
  q.vector = query;
  EXPECT_TRUE(search(q).empty());
  load(50);  // usable afterwards
  q.limit = 100;
  EXPECT_EQ(search(q).size(), 50u);
}

TEST_P(VectorIndexContractTest, WrongDimensionIsAnInvalidArgument) {
  load(10);
  std::vector<Point> bad = make_points(1);
  bad[0].vector.push_back(0.0f);
  auto status = index_->upsert(bad);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
  std::vector<float> query(kDim + 1, 0.1f);
  SearchQuery q;
  q.vector = query;
  auto hits = index_->search(q);
  ASSERT_FALSE(hits.ok());
  EXPECT_EQ(hits.error().code, ErrorCode::kInvalidArgument);
  auto info = index_->info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->points, 10);
}

TEST_P(VectorIndexContractTest, AppliedSeqRoundTrips) {
  ASSERT_TRUE(index_->set_applied_seq(42).ok());
  EXPECT_EQ(index_->applied_seq(), 42);
  auto info = index_->info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->applied_seq, 42);
  ASSERT_TRUE(index_->set_applied_seq(43).ok());
  EXPECT_EQ(index_->applied_seq(), 43);
  EXPECT_TRUE(index_->flush().ok());
}

TEST_P(VectorIndexContractTest, InfoCountsPoints) {
  load(250);
  auto info = index_->info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->points, 250);
  EXPECT_EQ(info->dimension, kDim);
  EXPECT_FALSE(info->backend.empty());
  EXPECT_FALSE(info->kind.empty());
  ASSERT_TRUE(index_->upsert(std::span(points_).subspan(0, 10)).ok());  // replacements
  info = index_->info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->points, 250);
}

}  // namespace lookalike::index::contract
