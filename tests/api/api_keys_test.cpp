// ApiKeys (api/api_keys.h): where a key is read from, and the decision for every access level ×
// key configuration × presented key, as docs/API.md states it (writes refused with 403 when no
// admin key is configured, a search key used for a write → 403, a missing or wrong key → 401).
#include "api/api_keys.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace lookalike::api {
namespace {

TEST(ApiKeysTest, PresentedKeyFromXApiKey) {
  EXPECT_EQ(ApiKeys::presented_key("k-123", ""), "k-123");
  // X-API-Key wins over Authorization.
  EXPECT_EQ(ApiKeys::presented_key("k-123", "Bearer other"), "k-123");
}

TEST(ApiKeysTest, PresentedKeyFromBearer) {
  EXPECT_EQ(ApiKeys::presented_key("", "Bearer k-456"), "k-456");
  // The scheme is case-insensitive.
  EXPECT_EQ(ApiKeys::presented_key("", "bearer k-456"), "k-456");
  EXPECT_EQ(ApiKeys::presented_key("", "BEARER k-456"), "k-456");
  EXPECT_EQ(ApiKeys::presented_key("", "bEaReR k-456"), "k-456");
  // The token is taken as it is (case kept).
  EXPECT_EQ(ApiKeys::presented_key("", "Bearer AbC"), "AbC");
}

TEST(ApiKeysTest, PresentedKeyNeitherIsEmpty) {
  EXPECT_EQ(ApiKeys::presented_key("", ""), "");
  EXPECT_EQ(ApiKeys::presented_key("", "Basic dXNlcjpwYXNz"), "");
  EXPECT_EQ(ApiKeys::presented_key("", "Bearer "), "");  // no token
  EXPECT_EQ(ApiKeys::presented_key("", "Bearer"), "");
  EXPECT_EQ(ApiKeys::presented_key("", "BearerXk-456"), "");  // no space after the scheme
  EXPECT_EQ(ApiKeys::presented_key("", "Token k-456"), "");
  // Bytes outside ASCII do not upset the scheme comparison.
  EXPECT_EQ(ApiKeys::presented_key("", "\xff\xfe\xfd\xfc\xfb\xfa\xf9 k"), "");
}

enum class Outcome { kAllowed, k401, k403 };

const char* name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kAllowed:
      return "allowed";
    case Outcome::k401:
      return "401";
    case Outcome::k403:
      return "403";
  }
  return "?";
}

const char* name(Access access) {
  switch (access) {
    case Access::kPublic:
      return "public";
    case Access::kSearch:
      return "search";
    case Access::kAdmin:
      return "admin";
  }
  return "?";
}

struct KeyConfig {
  const char* label;
  std::string admin;
  std::string search;
};

constexpr const char* kAdminKey = "admin-secret-0123456789";
constexpr const char* kSearchKey = "search-secret-98765";

// Presented keys, in the order of the expectation tables below.
const std::vector<std::pair<const char*, std::string>> kPresented = {
    {"no key", ""},
    {"wrong key", "not-a-key"},
    {"search key", kSearchKey},
    {"admin key", kAdminKey},
};

void expect_outcomes(const KeyConfig& config, Access access, const std::vector<Outcome>& want) {
  ASSERT_EQ(want.size(), kPresented.size());
  ApiKeys keys(config.admin, config.search);
  for (std::size_t i = 0; i < kPresented.size(); ++i) {
    SCOPED_TRACE(std::string(config.label) + ", " + name(access) + " route, " +
                 kPresented[i].first + ": want " + name(want[i]));
    std::optional<HttpError> got = keys.check(access, kPresented[i].second);
    switch (want[i]) {
      case Outcome::kAllowed:
        EXPECT_FALSE(got.has_value()) << got->status << " " << got->message;
        break;
      case Outcome::k401:
        ASSERT_TRUE(got.has_value());
        EXPECT_EQ(got->status, 401);
        EXPECT_EQ(got->code, "unauthorized");
        EXPECT_FALSE(got->message.empty());
        break;
      case Outcome::k403:
        ASSERT_TRUE(got.has_value());
        EXPECT_EQ(got->status, 403);
        EXPECT_EQ(got->code, "forbidden");
        EXPECT_FALSE(got->message.empty());
        break;
    }
  }
}

using enum Outcome;

const KeyConfig kNoKeys{"no keys configured", "", ""};
const KeyConfig kAdminOnly{"admin key only", kAdminKey, ""};
const KeyConfig kBoth{"admin and search keys", kAdminKey, kSearchKey};

//                                          no key    wrong     search    admin
TEST(ApiKeysTest, PublicIsAlwaysAllowed) {
  expect_outcomes(kNoKeys, Access::kPublic, {kAllowed, kAllowed, kAllowed, kAllowed});
  expect_outcomes(kAdminOnly, Access::kPublic, {kAllowed, kAllowed, kAllowed, kAllowed});
  expect_outcomes(kBoth, Access::kPublic, {kAllowed, kAllowed, kAllowed, kAllowed});
}

TEST(ApiKeysTest, SearchIsOpenWithoutASearchKey) {
  expect_outcomes(kNoKeys, Access::kSearch, {kAllowed, kAllowed, kAllowed, kAllowed});
  expect_outcomes(kAdminOnly, Access::kSearch, {kAllowed, kAllowed, kAllowed, kAllowed});
}

TEST(ApiKeysTest, SearchNeedsTheSearchOrAdminKeyWhenConfigured) {
  expect_outcomes(kBoth, Access::kSearch, {k401, k401, kAllowed, kAllowed});
}

TEST(ApiKeysTest, WritesAreForbiddenWithoutAnAdminKey) {
  expect_outcomes(kNoKeys, Access::kAdmin, {k403, k403, k403, k403});
  // A search key alone does not enable writes either.
  expect_outcomes({"search key only", "", kSearchKey}, Access::kAdmin, {k403, k403, k403, k403});
}

TEST(ApiKeysTest, WritesNeedTheAdminKey) {
  // Without a configured search key, the "search key" is just a wrong key: 401.
  expect_outcomes(kAdminOnly, Access::kAdmin, {k401, k401, k401, kAllowed});
  // A valid search key used for a write: 403.
  expect_outcomes(kBoth, Access::kAdmin, {k401, k401, k403, kAllowed});
}

TEST(ApiKeysTest, SearchKeyOnlyConfiguration) {
  const KeyConfig search_only{"search key only", "", kSearchKey};
  expect_outcomes(search_only, Access::kPublic, {kAllowed, kAllowed, kAllowed, kAllowed});
  // The admin key is not configured, so it is just a wrong key here.
  expect_outcomes(search_only, Access::kSearch, {k401, k401, kAllowed, k401});
}

TEST(ApiKeysTest, MessagesTellMissingFromWrongKeys) {
  ApiKeys keys(kAdminKey, kSearchKey);
  auto missing = keys.check(Access::kSearch, "");
  auto wrong = keys.check(Access::kSearch, "nope");
  ASSERT_TRUE(missing && wrong);
  EXPECT_NE(missing->message, wrong->message);
  EXPECT_NE(missing->message.find("required"), std::string::npos) << missing->message;
  EXPECT_NE(wrong->message.find("not valid"), std::string::npos) << wrong->message;

  auto admin_missing = keys.check(Access::kAdmin, "");
  ASSERT_TRUE(admin_missing);
  EXPECT_NE(admin_missing->message.find("admin"), std::string::npos) << admin_missing->message;

  auto disabled = ApiKeys("", "").check(Access::kAdmin, kAdminKey);
  ASSERT_TRUE(disabled);
  EXPECT_NE(disabled->message.find("LOOKALIKE_ADMIN_API_KEY"), std::string::npos)
      << disabled->message;
}

TEST(ApiKeysTest, KeysMustMatchExactly) {
  ApiKeys keys("abcdef", "uvwxyz");
  for (const char* key : {"abcde", "abcdefg", "ABCDEF", "abcdeF", " abcdef", "abcdef\n"}) {
    auto got = keys.check(Access::kAdmin, key);
    ASSERT_TRUE(got.has_value()) << key;
    EXPECT_EQ(got->status, 401) << key;
  }
  for (const char* key : {"uvwxy", "uvwxyzz", "UVWXYZ"}) {
    auto got = keys.check(Access::kSearch, key);
    ASSERT_TRUE(got.has_value()) << key;
    EXPECT_EQ(got->status, 401) << key;
  }
  EXPECT_FALSE(keys.check(Access::kAdmin, "abcdef").has_value());
  EXPECT_FALSE(keys.check(Access::kSearch, "uvwxyz").has_value());
}

}  // namespace
}  // namespace lookalike::api
