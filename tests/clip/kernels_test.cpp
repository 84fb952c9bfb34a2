// Each kernel and each backend against its naive version.
#include "clip/kernels.h"

#include <gtest/gtest.h>

#include <random>

#include "clip/backend/compute_backend.h"

namespace lookalike::clip {
namespace {

std::vector<float> random_values(std::size_t n, unsigned seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, float tolerance) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], tolerance * (1.0f + std::abs(want[i]))) << "at " << i;
  }
}

TEST(Kernels, LayerNormMatchesNaive) {
  for (int dim : {7, 64, 768}) {
    const int rows = 37;
    auto x = random_values(rows * dim, 1, 3.0f);
    auto gamma = random_values(dim, 2);
    auto beta = random_values(dim, 3);
    std::vector<float> got(x.size()), want(x.size());
    layer_norm(x.data(), rows, dim, gamma.data(), beta.data(), 1e-5f, got.data());
    layer_norm_naive(x.data(), rows, dim, gamma.data(), beta.data(), 1e-5f, want.data());
    expect_close(got, want, 1e-5f);
    layer_norm(x.data(), rows, dim, gamma.data(), beta.data(), 1e-5f, x.data());  // in place
    expect_close(x, want, 1e-5f);
  }
}

// Head sizes 16 and 12 take the generic kernel, 64 the register-blocked one; lengths cover one
// key, a partial block, exactly one block (64) and several (197, ViT-B/16).
TEST(Kernels, AttentionMatchesNaive) {
  for (auto [dim, heads] :
       {std::pair{96, 6}, std::pair{48, 4}, std::pair{256, 4}, std::pair{768, 12}}) {
    std::vector<Sequence> sequences = {{0, 50}, {50, 1}, {51, 13}, {64, 64}, {128, 197}};
    const int tokens = 325;
    auto qkv = random_values(static_cast<std::size_t>(tokens) * 3 * dim, 4);
    for (bool causal : {false, true}) {
      std::vector<float> got(static_cast<std::size_t>(tokens) * dim), want(got.size());
      attention(qkv.data(), sequences, dim, heads, causal, got.data());
      attention_naive(qkv.data(), sequences, dim, heads, causal, want.data());
      expect_close(got, want, 1e-5f);
    }
  }
}

TEST(Kernels, CausalAttentionIgnoresLaterTokens) {
  const int dim = 32;
  auto qkv = random_values(10 * 3 * dim, 5);
  std::vector<float> full(10 * dim), prefix(4 * dim);
  std::vector<Sequence> all = {{0, 10}}, first = {{0, 4}};
  attention(qkv.data(), all, dim, 4, true, full.data());
  attention(qkv.data(), first, dim, 4, true, prefix.data());
  for (int i = 0; i < 4 * dim; ++i) EXPECT_EQ(full[i], prefix[i]);
}

TEST(Kernels, L2Normalize) {
  std::vector<float> v = {3, 4};
  l2_normalize(v.data(), 2);
  EXPECT_FLOAT_EQ(v[0], 0.6f);
  EXPECT_FLOAT_EQ(v[1], 0.8f);
  std::vector<float> zero = {0, 0};
  l2_normalize(zero.data(), 2);
  EXPECT_EQ(zero[0], 0.0f);
}

struct BackendCase {
  Precision precision;
  float tolerance;
};

class BackendTest : public ::testing::TestWithParam<BackendCase> {};

TEST_P(BackendTest, LinearMatchesReferenceForEveryEpilogue) {
  auto fast = make_compute_backend("onednn", GetParam().precision);
  auto naive = make_compute_backend("reference");
  ASSERT_TRUE(fast.ok() && naive.ok());
  for (auto [m, n, k] : {std::tuple{1, 8, 8}, std::tuple{7, 48, 64}, std::tuple{50, 192, 48},
                         std::tuple{300, 64, 256}}) {
    auto w = random_values(static_cast<std::size_t>(n) * k, 6, 0.1f);
    auto b = random_values(n, 7, 0.1f);
    auto x = random_values(static_cast<std::size_t>(m) * k, 8);
    auto packed_fast = (*fast)->pack(w.data(), b.data(), n, k);
    auto packed_naive = (*naive)->pack(w.data(), b.data(), n, k);
    EXPECT_EQ(packed_fast->out_features(), n);
    EXPECT_EQ(packed_fast->in_features(), k);
    for (auto epilogue :
         {Epilogue::kNone, Epilogue::kQuickGelu, Epilogue::kGelu, Epilogue::kAccumulate}) {
      auto got = random_values(static_cast<std::size_t>(m) * n, 9);
      auto want = got;
      (*fast)->linear(x.data(), m, *packed_fast, got.data(), epilogue);
      (*naive)->linear(x.data(), m, *packed_naive, want.data(), epilogue);
      expect_close(got, want, GetParam().tolerance);
    }
  }
}

TEST_P(BackendTest, MlpMatchesReference) {
  auto fast = make_compute_backend("onednn", GetParam().precision);
  auto naive = make_compute_backend("reference");
  ASSERT_TRUE(fast.ok() && naive.ok());
  const int m = 50, d = 64, inter = 256;
  auto w1 = random_values(static_cast<std::size_t>(inter) * d, 10, 0.1f);
  auto b1 = random_values(inter, 11, 0.1f);
  auto w2 = random_values(static_cast<std::size_t>(d) * inter, 12, 0.1f);
  auto b2 = random_values(d, 13, 0.1f);
  auto x = random_values(static_cast<std::size_t>(m) * d, 14);
  for (auto activation : {Epilogue::kQuickGelu, Epilogue::kGelu}) {
    auto got = random_values(static_cast<std::size_t>(m) * d, 15);
    auto want = got;
    (*fast)->mlp(x.data(), m, *(*fast)->pack(w1.data(), b1.data(), inter, d),
                 *(*fast)->pack(w2.data(), b2.data(), d, inter), activation, got.data());
    (*naive)->mlp(x.data(), m, *(*naive)->pack(w1.data(), b1.data(), inter, d),
                  *(*naive)->pack(w2.data(), b2.data(), d, inter), activation, want.data());
    expect_close(got, want, GetParam().tolerance);
  }
}

INSTANTIATE_TEST_SUITE_P(Precisions, BackendTest,
                         ::testing::Values(BackendCase{Precision::kF32, 1e-4f},
                                           BackendCase{Precision::kBF16, 3e-2f}),
                         [](const auto& param_info) {
                           return std::string(precision_name(param_info.param.precision));
                         });

TEST(ComputeBackend, UnknownNamesAreErrors) {
  EXPECT_EQ(make_compute_backend("cuda").error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(make_compute_backend("reference", Precision::kBF16).ok());
  EXPECT_FALSE(parse_precision("int4").ok());
}

}  // namespace
}  // namespace lookalike::clip
