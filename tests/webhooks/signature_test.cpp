#include "webhooks/signature.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace lookalike {
namespace {

constexpr char kBody[] = R"({"id":"evt_1","type":"product.created"})";
constexpr char kSecret[] = "whsec_test_secret";

// printf '%s' '1700000000.{"id":"evt_1","type":"product.created"}' |
//   openssl dgst -sha256 -hmac 'whsec_test_secret'
constexpr char kExpected[] =
    "t=1700000000,v1=e872ba8d9fbcd68b0184fa887ef1ec5cc2dcfdb69f3aec7d2c3f35a6d9c6b87e";

TEST(Signature, MatchesOpensslHmac) {
  EXPECT_EQ(sign_payload(kSecret, 1700000000, kBody), kExpected);
  // printf '%s' '1.' | openssl dgst -sha256 -hmac key
  EXPECT_EQ(sign_payload("key", 1, ""),
            "t=1,v1=53123bc365c2fe4bee48bc5cc6cd6c19699147d43513154ed34277c7c063e80f");
}

TEST(Signature, VerifiesAGoodSignature) {
  EXPECT_TRUE(verify_signature(kExpected, kSecret, kBody, 1700000000));
  EXPECT_TRUE(verify_signature(kExpected, kSecret, kBody, 1700000000 + 299));
  EXPECT_TRUE(verify_signature(kExpected, kSecret, kBody, 1700000000 - 299));
  // A second v1 (another secret during rotation) may come first.
  std::string two = "t=1700000000,v1=" + std::string(64, '0') + "," +
                    std::string(kExpected).substr(std::string("t=1700000000,").size());
  EXPECT_TRUE(verify_signature(two, kSecret, kBody, 1700000000));
}

TEST(Signature, RejectsTamperingAndOldTimestamps) {
  EXPECT_FALSE(verify_signature(kExpected, kSecret, std::string(kBody) + " ", 1700000000));
  EXPECT_FALSE(verify_signature(kExpected, "whsec_other", kBody, 1700000000));
  EXPECT_FALSE(verify_signature(kExpected, kSecret, kBody, 1700000000 + 301));
  EXPECT_FALSE(
      verify_signature(kExpected, kSecret, kBody, 1700000000 + 61, std::chrono::seconds(60)));
  // The timestamp is signed: moving it invalidates the signature.
  std::string moved = kExpected;
  moved.replace(2, 10, "1700000100");
  EXPECT_FALSE(verify_signature(moved, kSecret, kBody, 1700000100));
  std::string flipped = kExpected;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  EXPECT_FALSE(verify_signature(flipped, kSecret, kBody, 1700000000));
  EXPECT_FALSE(verify_signature("", kSecret, kBody, 1700000000));
  EXPECT_FALSE(verify_signature("t=1700000000", kSecret, kBody, 1700000000));
  EXPECT_FALSE(verify_signature("v1=e872", kSecret, kBody, 1700000000));
  EXPECT_FALSE(verify_signature("t=abc,v1=00", kSecret, kBody, 1700000000));
  EXPECT_FALSE(verify_signature("t=-5,v1=00", kSecret, kBody, 0));
}

TEST(Signature, GeneratedSecretsAreRandomHex) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string secret = generate_secret();
    ASSERT_EQ(secret.size(), 6u + 32u);
    EXPECT_EQ(secret.rfind("whsec_", 0), 0u);
    EXPECT_EQ(secret.find_first_not_of("0123456789abcdef", 6), std::string::npos);
    seen.insert(secret);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_EQ(random_hex(8).size(), 16u);
}

}  // namespace
}  // namespace lookalike
