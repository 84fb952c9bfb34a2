// TextEmbeddingCache (api/text_embedding_cache.h): an LRU of text → embedding.
#include "api/text_embedding_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace lookalike::api {
namespace {

// prefix + number (a helper: `"literal" + std::to_string(i)` trips GCC 12's -Wrestrict).
std::string key_of(const char* prefix, int i) {
  std::string key = prefix;
  key += std::to_string(i);
  return key;
}

std::vector<float> vec(float value) { return {value, value + 0.5f, -value}; }

TEST(TextEmbeddingCacheTest, MissThenHit) {
  TextEmbeddingCache cache(4);
  EXPECT_FALSE(cache.get("red bag").has_value());
  cache.put("red bag", vec(1));
  auto hit = cache.get("red bag");
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(*hit, vec(1));
  // Keys are exact strings.
  EXPECT_FALSE(cache.get("Red bag").has_value());
  EXPECT_FALSE(cache.get("red bag ").has_value());
  EXPECT_FALSE(cache.get("").has_value());
}

TEST(TextEmbeddingCacheTest, EvictsTheLeastRecentlyUsedInOrder) {
  TextEmbeddingCache cache(3);
  cache.put("a", vec(1));
  cache.put("b", vec(2));
  cache.put("c", vec(3));
  cache.put("d", vec(4));  // evicts a
  EXPECT_FALSE(cache.get("a").has_value());
  cache.put("e", vec(5));  // evicts b
  EXPECT_FALSE(cache.get("b").has_value());
  ASSERT_TRUE(cache.get("c").has_value());
  ASSERT_TRUE(cache.get("d").has_value());
  ASSERT_TRUE(cache.get("e").has_value());
  EXPECT_EQ(*cache.get("e"), vec(5));
}

TEST(TextEmbeddingCacheTest, GetRefreshesRecency) {
  TextEmbeddingCache cache(3);
  cache.put("a", vec(1));
  cache.put("b", vec(2));
  cache.put("c", vec(3));
  ASSERT_TRUE(cache.get("a").has_value());  // a is now the most recent; b the oldest
  cache.put("d", vec(4));                   // evicts b
  EXPECT_FALSE(cache.get("b").has_value());
  EXPECT_TRUE(cache.get("a").has_value());
  EXPECT_TRUE(cache.get("c").has_value());
  EXPECT_TRUE(cache.get("d").has_value());
  // Order now (most recent first): d, c, a. Two more puts evict a, then c.
  cache.put("e", vec(5));
  EXPECT_FALSE(cache.get("a").has_value());
  cache.put("f", vec(6));
  EXPECT_FALSE(cache.get("c").has_value());
  EXPECT_TRUE(cache.get("d").has_value());
  EXPECT_TRUE(cache.get("e").has_value());
  EXPECT_TRUE(cache.get("f").has_value());
}

TEST(TextEmbeddingCacheTest, PutReplacesAndRefreshes) {
  TextEmbeddingCache cache(2);
  cache.put("a", vec(1));
  cache.put("b", vec(2));
  cache.put("a", vec(10));  // replaces, and a becomes the most recent
  EXPECT_EQ(*cache.get("a"), vec(10));
  cache.put("c", vec(3));  // evicts b, not a
  EXPECT_FALSE(cache.get("b").has_value());
  ASSERT_TRUE(cache.get("a").has_value());
  EXPECT_EQ(*cache.get("a"), vec(10));
  EXPECT_EQ(*cache.get("c"), vec(3));
  // Replacing does not add an entry: both still fit.
  cache.put("c", vec(30));
  cache.put("c", vec(31));
  EXPECT_TRUE(cache.get("a").has_value());
  EXPECT_EQ(*cache.get("c"), vec(31));
}

TEST(TextEmbeddingCacheTest, CapacityOneKeepsTheLastOnly) {
  TextEmbeddingCache cache(1);
  cache.put("a", vec(1));
  EXPECT_TRUE(cache.get("a").has_value());
  cache.put("b", vec(2));
  EXPECT_FALSE(cache.get("a").has_value());
  EXPECT_EQ(*cache.get("b"), vec(2));
}

TEST(TextEmbeddingCacheTest, CapacityZeroStoresNothing) {
  TextEmbeddingCache cache(0);
  cache.put("a", vec(1));
  EXPECT_FALSE(cache.get("a").has_value());
  cache.put("a", vec(2));
  EXPECT_FALSE(cache.get("a").has_value());
}

TEST(TextEmbeddingCacheTest, ReturnedVectorsAreCopies) {
  TextEmbeddingCache cache(2);
  cache.put("a", vec(1));
  auto first = cache.get("a");
  ASSERT_TRUE(first.has_value());
  (*first)[0] = 99;
  EXPECT_EQ(*cache.get("a"), vec(1));
}

TEST(TextEmbeddingCacheTest, ConcurrentUse) {
  constexpr int kThreads = 8;
  constexpr int kOps = 4000;
  constexpr std::size_t kCapacity = 64;
  TextEmbeddingCache cache(kCapacity);
  std::vector<std::thread> threads;
  std::vector<int> wrong(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kOps; ++i) {
        // Keys shared across threads (more than the capacity, so evictions race with gets).
        const int k = (i * 7 + t) % 200;
        const std::string key = key_of("q", k);
        if (i % 3 == 0) {
          cache.put(key, vec(static_cast<float>(k)));
        } else if (auto hit = cache.get(key)) {
          // Whatever thread put it, the value for a key is always the same.
          if (*hit != vec(static_cast<float>(k))) ++wrong[static_cast<std::size_t>(t)];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(wrong[static_cast<std::size_t>(t)], 0) << t;

  // Still a working LRU of the right capacity afterwards.
  for (int i = 0; i < static_cast<int>(kCapacity); ++i) {
    cache.put(key_of("final", i), vec(static_cast<float>(i)));
  }
  for (int i = 0; i < static_cast<int>(kCapacity); ++i) {
    auto hit = cache.get(key_of("final", i));
    ASSERT_TRUE(hit.has_value()) << i;
    EXPECT_EQ(*hit, vec(static_cast<float>(i)));
  }
  for (int k = 0; k < 200; ++k) {
    EXPECT_FALSE(cache.get(key_of("q", k)).has_value()) << k;
  }
}

}  // namespace
}  // namespace lookalike::api
