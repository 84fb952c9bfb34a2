#include <string>

#include <gtest/gtest.h>

#include "ingest/source_fetcher.h"
#include "s3_server.h"

namespace lookalike::ingest {
namespace {

using lookalike::testing::S3Server;

TEST(SourceFetcherIntegrationTest, FetchesS3Objects) {
  S3Server server;
  ASSERT_TRUE(server.start());
  ASSERT_TRUE(server.create_bucket("catalogue"));
  ASSERT_TRUE(server.put_object("catalogue", "shoes/red shoe+1.jpg", "red shoe bytes"));

  SourceFetcherOptions options;
  options.retry.initial_backoff = std::chrono::milliseconds(5);
  S3ClientOptions s3;
  s3.endpoint = server.endpoint();
  s3.credentials = {S3Server::kAccessKeyId, S3Server::kSecretAccessKey, ""};
  options.s3 = s3;
  SourceFetcher fetcher(options);

  auto object = fetcher.fetch("s3://catalogue/shoes/red shoe+1.jpg", 1000);
  ASSERT_TRUE(object.ok()) << object.error().to_string();
  EXPECT_EQ(object->bytes, "red shoe bytes");
  EXPECT_EQ(object->etag.size(), 32u);  // s3rver's ETag: the MD5, quotes stripped
  EXPECT_EQ(object->final_url, "s3://catalogue/shoes/red shoe+1.jpg");

  auto missing = fetcher.fetch("s3://catalogue/shoes/blue.jpg", 1000);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  auto over = fetcher.fetch("s3://catalogue/shoes/red shoe+1.jpg", 5);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, ErrorCode::kResourceExhausted);
}

}  // namespace
}  // namespace lookalike::ingest
