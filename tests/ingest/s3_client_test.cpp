#include "ingest/s3/s3_client.h"

#include <cstdlib>

#include <gtest/gtest.h>

namespace lookalike::ingest {
namespace {

TEST(S3UriTest, ParsesBucketAndKey) {
  auto uri = parse_s3_uri("s3://my-bucket/some/prefix/");
  ASSERT_TRUE(uri.ok()) << uri.error().to_string();
  EXPECT_EQ(uri->bucket, "my-bucket");
  EXPECT_EQ(uri->key, "some/prefix/");
  auto bare = parse_s3_uri("s3://my.bucket");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->bucket, "my.bucket");
  EXPECT_EQ(bare->key, "");
}

TEST(S3UriTest, RejectsWhatIsNotAnS3Uri) {
  for (const char* text : {"http://bucket/key", "s3:/bucket/key", "s3://", "s3:///key",
                           "s3://ab/key", "s3://-bucket/key", "s3://bucket!/key"}) {
    auto uri = parse_s3_uri(text);
    ASSERT_FALSE(uri.ok()) << text;
    EXPECT_EQ(uri.error().code, ErrorCode::kInvalidArgument) << text;
  }
}

TEST(S3ClientTest, ObjectUrlsEncodeEachSegment) {
  S3ClientOptions options;
  options.endpoint = "http://127.0.0.1:4569/";
  S3Client custom(options);
  EXPECT_EQ(custom.object_url("b", "dir/a b+c~ü.jpg"),
            "http://127.0.0.1:4569/b/dir/a%20b%2Bc~%C3%BC.jpg");
  EXPECT_EQ(custom.object_url("b", ""), "http://127.0.0.1:4569/b/");

  options.endpoint.clear();
  options.region = "eu-west-1";
  S3Client aws(options);
  EXPECT_EQ(aws.object_url("photos", "x.jpg"), "https://photos.s3.eu-west-1.amazonaws.com/x.jpg");
  EXPECT_EQ(aws.object_url("my.photos", "x.jpg"),
            "https://s3.eu-west-1.amazonaws.com/my.photos/x.jpg");
  options.force_path_style = true;
  EXPECT_EQ(S3Client(options).object_url("photos", "x.jpg"),
            "https://s3.eu-west-1.amazonaws.com/photos/x.jpg");
}

TEST(S3ClientTest, CredentialsFromTheEnvironment) {
  ::setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "SECRET", 1);
  ::setenv("AWS_SESSION_TOKEN", "TOKEN", 1);
  auto credentials = s3_credentials_from_environment();
  ASSERT_TRUE(credentials.ok());
  EXPECT_EQ(credentials->access_key_id, "AKID");
  EXPECT_EQ(credentials->secret_access_key, "SECRET");
  EXPECT_EQ(credentials->session_token, "TOKEN");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  auto missing = s3_credentials_from_environment();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kFailedPrecondition);
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SESSION_TOKEN");
}

}  // namespace
}  // namespace lookalike::ingest
