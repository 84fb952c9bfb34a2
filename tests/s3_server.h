// S3Server: the S3 stand-in for tests (s3rver from npm, run by tests/js/s3_stand_in.js, which also
// verifies SigV4 signatures) as a child process on a free port with a fresh data directory.
// Thread-safety: every method but start() may be called from several threads at once.
#pragma once

#include <sys/types.h>

#include <string>

#include <gtest/gtest.h>

#include "test_support.h"

namespace lookalike::testing {

class S3Server {
 public:
  // The one key pair the stand-in accepts (any other access key id: InvalidAccessKeyId).
  static constexpr char kAccessKeyId[] = "S3RVER";
  static constexpr char kSecretAccessKey[] = "S3RVER";
  static constexpr char kRegion[] = "us-east-1";

  S3Server() = default;
  ~S3Server();  // kills the stand-in
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  // Starts the stand-in and waits until it answers. Fails (never skips) with what to install when
  // node or tests/js/node_modules is missing: ASSERT_TRUE(server.start()).
  ::testing::AssertionResult start();

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Signed PUTs through the stand-in's own API.
  ::testing::AssertionResult create_bucket(const std::string& bucket);
  ::testing::AssertionResult put_object(const std::string& bucket, const std::string& key,
                                        const std::string& bytes);

 private:
  ::testing::AssertionResult put(const std::string& path, const std::string& body);
  std::string log_tail() const;

  TempDir dir_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;  // the child exits when this closes, even if the test process is killed
  int port_ = 0;
};

}  // namespace lookalike::testing
