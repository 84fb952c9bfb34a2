#include "ingest/s3/s3_client.h"

#include <openssl/evp.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "s3_server.h"

namespace lookalike::ingest {
namespace {

using lookalike::testing::S3Server;

constexpr char kBucket[] = "photos";
constexpr int kManyKeys = 1105;  // more than one page of S3's 1000

std::string md5_hex(const std::string& bytes) {
  unsigned char raw[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), raw, &length, EVP_md5(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += "0123456789abcdef"[raw[i] >> 4];
    hex += "0123456789abcdef"[raw[i] & 15];
  }
  return hex;
}

std::string many_key(int i) {
  char name[32];
  std::snprintf(name, sizeof name, "many/img-%05d.jpg", i);
  return name;
}

std::string content_of(const std::string& key) { return "bytes of " + key; }

const std::vector<std::string>& tricky_keys() {
  static const std::vector<std::string> keys = {
      "tricky/with space.jpg",     "tricky/ünïcödé-日本.jpg",  "tricky/a+b=c&d;e,f.jpg",
      "tricky/percent%20kept.jpg", "tricky/(paren)!*'~$@.jpg", "tricky/deep/er/path.png",
  };
  return keys;
}

// One stand-in per suite (CTest runs each test in its own process, so per test in CI) with a few
// objects; the test of pagination stores its 1100 itself.
class S3ClientIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = std::make_unique<S3Server>();
    started_ = server_->start();
    if (!started_) return;
    started_ = server_->create_bucket(kBucket);
    std::vector<std::string> keys = tricky_keys();
    keys.push_back("other/x.jpg");
    for (int i = 0; i < 60; ++i) keys.push_back(many_key(i));
    put_all(keys);
  }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override { ASSERT_TRUE(started_); }

  // Stores the keys (their content: content_of(key)) from 8 threads.
  static void put_all(const std::vector<std::string>& keys) {
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::vector<std::thread> writers;
    for (int t = 0; t < 8; ++t) {
      writers.emplace_back([&] {
        for (std::size_t i = next++; i < keys.size() && !failed; i = next++) {
          if (!server_->put_object(kBucket, keys[i], content_of(keys[i]))) failed = true;
        }
      });
    }
    for (auto& writer : writers) writer.join();
    if (failed) started_ = ::testing::AssertionFailure() << "could not store the test objects";
  }

  static S3ClientOptions options() {
    S3ClientOptions options;
    options.endpoint = server_->endpoint();
    options.region = S3Server::kRegion;
    options.credentials = {S3Server::kAccessKeyId, S3Server::kSecretAccessKey, ""};
    options.retry.max_attempts = 2;
    options.retry.initial_backoff = std::chrono::milliseconds(10);
    return options;
  }

  static std::vector<S3ObjectInfo> list(S3Client& client, const std::string& prefix,
                                        int* pages = nullptr) {
    std::vector<S3ObjectInfo> all;
    auto status = client.list_objects(kBucket, prefix, [&](const auto& page) {
      if (pages != nullptr) ++*pages;
      all.insert(all.end(), page.begin(), page.end());
      return ok_status();
    });
    EXPECT_TRUE(status.ok()) << status.error().to_string();
    return all;
  }

  static inline std::unique_ptr<S3Server> server_;
  static inline ::testing::AssertionResult started_ = ::testing::AssertionSuccess();
};

TEST_F(S3ClientIntegrationTest, ListsMoreThanAThousandKeysPageByPage) {
  std::vector<std::string> keys;
  for (int i = 60; i < kManyKeys; ++i) keys.push_back(many_key(i));
  put_all(keys);
  ASSERT_TRUE(started_);

  // Small pages: many continuation tokens.
  auto opts = options();
  opts.max_keys = 100;
  S3Client small_pages(opts);
  int pages = 0;
  auto objects = list(small_pages, "many/", &pages);
  ASSERT_EQ(objects.size(), static_cast<std::size_t>(kManyKeys));
  EXPECT_EQ(pages, (kManyKeys + 99) / 100);
  for (int i = 0; i < kManyKeys; ++i) {
    const auto& object = objects[static_cast<std::size_t>(i)];
    ASSERT_EQ(object.key, many_key(i));
    EXPECT_EQ(object.size, content_of(object.key).size());
    EXPECT_EQ(object.etag, md5_hex(content_of(object.key)));
    EXPECT_TRUE(object.last_modified.ends_with("Z")) << object.last_modified;
  }

  // S3's own page size.
  S3Client full_pages(options());
  pages = 0;
  EXPECT_EQ(list(full_pages, "many/", &pages).size(), static_cast<std::size_t>(kManyKeys));
  EXPECT_EQ(pages, 2);

  // The callback stops the listing.
  pages = 0;
  auto status = small_pages.list_objects(kBucket, "many/", [&](const auto&) {
    return ++pages == 2 ? Status(make_error(ErrorCode::kCancelled, "enough")) : ok_status();
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kCancelled);
  EXPECT_EQ(pages, 2);
}

TEST_F(S3ClientIntegrationTest, PrefixFiltersAndSpecialCharactersSurvive) {
  S3Client client(options());
  auto objects = list(client, "tricky/");
  std::vector<std::string> keys;
  for (const auto& object : objects) keys.push_back(object.key);
  auto expected = tricky_keys();  // S3 lists in UTF-8 byte order
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(keys, expected);
  EXPECT_TRUE(list(client, "nothing-here/").empty());
  ASSERT_EQ(list(client, "other/").size(), 1u);
  // A prefix that itself needs encoding.
  auto spaced = list(client, "tricky/with sp");
  ASSERT_EQ(spaced.size(), 1u);
  EXPECT_EQ(spaced[0].key, "tricky/with space.jpg");
}

TEST_F(S3ClientIntegrationTest, GetsBytesAndEtagOfSpecialKeys) {
  S3Client client(options());
  for (const auto& key : tricky_keys()) {
    auto object = client.get_object(kBucket, key, 1 << 20);
    ASSERT_TRUE(object.ok()) << key << ": " << object.error().to_string();
    EXPECT_EQ(object->bytes, content_of(key));
    EXPECT_EQ(object->etag, md5_hex(content_of(key)));
    EXPECT_FALSE(object->not_modified);
  }
}

TEST_F(S3ClientIntegrationTest, IfNoneMatchAnswersNotModified) {
  S3Client client(options());
  const std::string key = "other/x.jpg";
  auto object = client.get_object(kBucket, key, 1 << 20, md5_hex(content_of(key)));
  ASSERT_TRUE(object.ok()) << object.error().to_string();
  EXPECT_TRUE(object->not_modified);
  EXPECT_TRUE(object->bytes.empty());
  auto changed = client.get_object(kBucket, key, 1 << 20, "0123");
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(changed->not_modified);
  EXPECT_EQ(changed->bytes, content_of(key));
}

TEST_F(S3ClientIntegrationTest, MissingKeyAndBucketAreNotFound) {
  S3Client client(options());
  auto missing = client.get_object(kBucket, "no/such/key.jpg", 1 << 20);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("NoSuchKey"), std::string::npos)
      << missing.error().message;

  auto no_bucket = client.get_object("no-such-bucket", "x.jpg", 1 << 20);
  ASSERT_FALSE(no_bucket.ok());
  EXPECT_EQ(no_bucket.error().code, ErrorCode::kNotFound);
  auto status = client.list_objects("no-such-bucket", "", [](const auto&) { return ok_status(); });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kNotFound);
  EXPECT_NE(status.error().message.find("NoSuchBucket"), std::string::npos)
      << status.error().message;
}

TEST_F(S3ClientIntegrationTest, WrongCredentialsAreRefused) {
  auto wrong_secret = options();
  wrong_secret.credentials.secret_access_key = "not-the-secret";
  auto result = S3Client(wrong_secret).get_object(kBucket, "other/x.jpg", 1 << 20);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(result.error().message.find("SignatureDoesNotMatch"), std::string::npos)
      << result.error().message;

  auto unknown_key = options();
  unknown_key.credentials.access_key_id = "AKIAUNKNOWN";
  auto status =
      S3Client(unknown_key).list_objects(kBucket, "", [](const auto&) { return ok_status(); });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(status.error().message.find("InvalidAccessKeyId"), std::string::npos)
      << status.error().message;
}

TEST_F(S3ClientIntegrationTest, SessionTokenIsSignedToo) {
  auto opts = options();
  opts.credentials.session_token = "a session token";
  auto object = S3Client(opts).get_object(kBucket, "other/x.jpg", 1 << 20);
  ASSERT_TRUE(object.ok()) << object.error().to_string();
}

TEST_F(S3ClientIntegrationTest, ObjectOverTheLimitIsResourceExhausted) {
  S3Client client(options());
  auto object = client.get_object(kBucket, "other/x.jpg", 4);
  ASSERT_FALSE(object.ok());
  EXPECT_EQ(object.error().code, ErrorCode::kResourceExhausted);
}

TEST_F(S3ClientIntegrationTest, OneClientServesManyThreads) {
  S3Client client(options());
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < 60; i += 6) {
        auto object = client.get_object(kBucket, many_key(i), 1 << 20);
        if (object.ok() && object->bytes == content_of(many_key(i))) ++good;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(good, 60);
}

}  // namespace
}  // namespace lookalike::ingest
