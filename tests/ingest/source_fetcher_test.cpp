#include "ingest/source_fetcher.h"

#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.h"

namespace lookalike::ingest {
namespace {

using lookalike::testing::TempDir;
using lookalike::testing::write_bytes;

// Image URLs on 127.0.0.1: /image.jpg, /missing, /flaky (500 once, then 200), /big, /moved.
class ImageServer {
 public:
  ImageServer() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    server_.Get("/image.jpg", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("ETag", "\"abc123\"");
      res.set_content("jpeg bytes", "image/jpeg");
    });
    server_.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
      res.status = 404;
      res.set_content("<html>not here</html>", "text/html");
    });
    server_.Get("/forbidden", [this](const httplib::Request&, httplib::Response& res) {
      ++hits_;
      res.status = 403;
    });
    server_.Get("/flaky", [this](const httplib::Request&, httplib::Response& res) {
      if (hits_++ == 0) {
        res.status = 500;
        return;
      }
      res.set_content("second time lucky", "image/png");
    });
    server_.Get("/down", [this](const httplib::Request&, httplib::Response& res) {
      ++hits_;
      res.status = 503;
    });
    server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(100000, 'b'), "image/jpeg");
    });
    server_.Get("/moved", [this](const httplib::Request&, httplib::Response& res) {
      res.set_redirect(url("/image.jpg"));
    });
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ImageServer() {
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int hits() const { return hits_; }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> hits_{0};
};

SourceFetcherOptions fast_options() {
  SourceFetcherOptions options;
  options.retry.max_attempts = 3;
  options.retry.initial_backoff = std::chrono::milliseconds(5);
  options.retry.max_backoff = std::chrono::milliseconds(20);
  return options;
}

TEST(SourceFetcherTest, ReadsLocalFiles) {
  TempDir dir;
  write_bytes(dir / "a.jpg", "local bytes");
  SourceFetcher fetcher(fast_options());
  auto object = fetcher.fetch((dir / "a.jpg").string(), 100);
  ASSERT_TRUE(object.ok()) << object.error().to_string();
  EXPECT_EQ(object->bytes, "local bytes");
  EXPECT_EQ(object->final_url, (dir / "a.jpg").string());
  EXPECT_FALSE(object->etag.empty());

  auto exact = fetcher.fetch((dir / "a.jpg").string(), 11);
  ASSERT_TRUE(exact.ok());
  auto over = fetcher.fetch((dir / "a.jpg").string(), 10);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, ErrorCode::kResourceExhausted);

  write_bytes(dir / "empty.jpg", "");
  auto empty = fetcher.fetch((dir / "empty.jpg").string(), 10);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->bytes.empty());
}

TEST(SourceFetcherTest, RejectsWhatIsNotARegularFile) {
  TempDir dir;
  SourceFetcher fetcher(fast_options());
  auto missing = fetcher.fetch((dir / "nope.jpg").string(), 100);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  auto directory = fetcher.fetch(dir.path().string(), 100);
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().code, ErrorCode::kInvalidArgument);

  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  auto fifo = fetcher.fetch((dir / "fifo").string(), 100);  // must not block
  ASSERT_FALSE(fifo.ok());
  EXPECT_EQ(fifo.error().code, ErrorCode::kInvalidArgument);
}

TEST(SourceFetcherTest, RejectsOtherSchemesAndRelativePaths) {
  TempDir dir;
  write_bytes(dir / "a.jpg", "x");
  SourceFetcher fetcher(fast_options());
  for (std::string reference :
       {"file://" + (dir / "a.jpg").string(), std::string("ftp://example.com/a.jpg"),
        std::string("gopher://x/y"), std::string("relative/a.jpg"), std::string("")}) {
    auto object = fetcher.fetch(reference, 100);
    ASSERT_FALSE(object.ok()) << reference;
    EXPECT_EQ(object.error().code, ErrorCode::kInvalidArgument) << reference;
  }
}

TEST(SourceFetcherTest, S3WithoutSettingsIsAFailedPrecondition) {
  SourceFetcher fetcher(fast_options());
  auto object = fetcher.fetch("s3://bucket/key.jpg", 100);
  ASSERT_FALSE(object.ok());
  EXPECT_EQ(object.error().code, ErrorCode::kFailedPrecondition);
  auto prefix = fetcher.fetch("s3://bucket/dir/", 100);
  ASSERT_FALSE(prefix.ok());
  EXPECT_EQ(prefix.error().code, ErrorCode::kInvalidArgument);
}

TEST(SourceFetcherTest, FetchesUrls) {
  ImageServer server;
  SourceFetcher fetcher(fast_options());
  auto object = fetcher.fetch(server.url("/image.jpg"), 1000);
  ASSERT_TRUE(object.ok()) << object.error().to_string();
  EXPECT_EQ(object->bytes, "jpeg bytes");
  EXPECT_EQ(object->etag, "abc123");
  EXPECT_EQ(object->final_url, server.url("/image.jpg"));
}

TEST(SourceFetcherTest, FollowsRedirects) {
  ImageServer server;
  SourceFetcher fetcher(fast_options());
  auto object = fetcher.fetch(server.url("/moved"), 1000);
  ASSERT_TRUE(object.ok()) << object.error().to_string();
  EXPECT_EQ(object->bytes, "jpeg bytes");
  EXPECT_EQ(object->final_url, server.url("/image.jpg"));
}

TEST(SourceFetcherTest, NotFoundAndOtherStatuses) {
  ImageServer server;
  SourceFetcher fetcher(fast_options());
  auto missing = fetcher.fetch(server.url("/missing"), 5);  // an error page over the limit
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("404"), std::string::npos) << missing.error().message;

  auto forbidden = fetcher.fetch(server.url("/forbidden"), 1000);
  ASSERT_FALSE(forbidden.ok());
  EXPECT_EQ(forbidden.error().code, ErrorCode::kNetwork);
  EXPECT_NE(forbidden.error().message.find("403"), std::string::npos);
  EXPECT_EQ(server.hits(), 1);  // not retried
}

TEST(SourceFetcherTest, RetriesServerErrors) {
  ImageServer server;
  SourceFetcher fetcher(fast_options());
  auto object = fetcher.fetch(server.url("/flaky"), 1000);
  ASSERT_TRUE(object.ok()) << object.error().to_string();
  EXPECT_EQ(object->bytes, "second time lucky");
  EXPECT_EQ(server.hits(), 2);
}

TEST(SourceFetcherTest, GivesUpOnAServerThatStaysDown) {
  ImageServer server;
  SourceFetcher fetcher(fast_options());
  auto object = fetcher.fetch(server.url("/down"), 1000);
  ASSERT_FALSE(object.ok());
  EXPECT_EQ(object.error().code, ErrorCode::kNetwork);
  EXPECT_NE(object.error().message.find("503"), std::string::npos) << object.error().message;
  EXPECT_EQ(server.hits(), 3);
}

TEST(SourceFetcherTest, OversizedDownloadsAreResourceExhausted) {
  ImageServer server;
  SourceFetcher fetcher(fast_options());
  auto object = fetcher.fetch(server.url("/big"), 99999);
  ASSERT_FALSE(object.ok());
  EXPECT_EQ(object.error().code, ErrorCode::kResourceExhausted);
  auto fits = fetcher.fetch(server.url("/big"), 100000);
  ASSERT_TRUE(fits.ok()) << fits.error().to_string();
}

TEST(SourceFetcherTest, ManyThreadsShareOneFetcher) {
  ImageServer server;
  TempDir dir;
  write_bytes(dir / "a.jpg", "local bytes");
  SourceFetcher fetcher(fast_options());
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 5; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto url = fetcher.fetch(server.url("/image.jpg"), 1000);
        auto file = fetcher.fetch((dir / "a.jpg").string(), 1000);
        if (url.ok() && url->bytes == "jpeg bytes" && file.ok()) ++good;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(good, 100);
}

}  // namespace
}  // namespace lookalike::ingest
