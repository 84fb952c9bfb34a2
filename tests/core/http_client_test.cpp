#include "core/http_client.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "core/sha256.h"

namespace lookalike {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// An httplib server on 127.0.0.1 with the routes these tests need. Handlers run on its threads.
class TestServer {
 public:
  TestServer() : TestServer(0) {}
  explicit TestServer(int port) {
    if (port == 0) {
      port_ = server_.bind_to_any_port("127.0.0.1");
    } else if (server_.bind_to_port("127.0.0.1", port)) {
      port_ = port;
    }
    auto echo = [this](const httplib::Request& req, httplib::Response& res) {
      ++hits_;
      std::lock_guard lock(mutex_);
      last_headers_ = req.headers;
      res.set_header("X-Echo", req.get_header_value("X-Custom"));
      res.set_content(req.method + "\n" + req.body, "text/plain");
    };
    server_.Get("/echo", echo);
    server_.Post("/echo", echo);
    server_.Put("/echo", echo);
    server_.Patch("/echo", echo);
    server_.Delete("/echo", echo);
    server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(1 << 20, 'x'), "application/octet-stream");
    });
    server_.Get("/big-chunked", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("application/octet-stream",
                                       [](std::size_t offset, httplib::DataSink& sink) {
                                         if (offset >= (1u << 20)) {
                                           sink.done();
                                           return true;
                                         }
                                         std::string chunk(16 * 1024, 'y');
                                         return sink.write(chunk.data(), chunk.size());
                                       });
    });
    server_.Get("/missing", [this](const httplib::Request&, httplib::Response& res) {
      ++hits_;
      res.status = 404;
      res.set_content(std::string(10000, 'e'), "text/html");
    });
    // Fails with `fail_status_` (and `retry_after_`) `failures_` times, then answers 200.
    server_.Get("/flaky", [this](const httplib::Request&, httplib::Response& res) {
      ++hits_;
      if (failures_.fetch_sub(1) > 0) {
        res.status = fail_status_;
        if (!retry_after_.empty()) res.set_header("Retry-After", retry_after_);
        res.set_content("try later", "text/plain");
        return;
      }
      res.set_content("finally", "text/plain");
    });
    server_.Get("/slow", [this](const httplib::Request&, httplib::Response& res) {
      for (int i = 0; i < 40 && !stopping_; ++i) std::this_thread::sleep_for(milliseconds(50));
      res.set_content("late", "text/plain");
    });
    server_.Get("/redirect", [this](const httplib::Request&, httplib::Response& res) {
      res.set_redirect(url("/echo"));
    });
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the listen loop has begun would be lost, and join() would wait forever.
    while (port_ > 0 && !server_.is_running()) std::this_thread::sleep_for(milliseconds(1));
  }
  ~TestServer() {
    stopping_ = true;
    server_.stop();
    thread_.join();
  }

  int port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  void fail(int status, int times, std::string retry_after) {
    fail_status_ = status;
    failures_ = times;
    retry_after_ = std::move(retry_after);
  }
  int hits() const { return hits_; }
  std::string header(const std::string& name) const {
    std::lock_guard lock(mutex_);
    auto it = last_headers_.find(name);
    return it == last_headers_.end() ? "" : it->second;
  }
  bool has_header(const std::string& name) const {
    std::lock_guard lock(mutex_);
    return last_headers_.count(name) > 0;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
  std::atomic<int> hits_{0};
  std::atomic<int> failures_{0};
  int fail_status_ = 503;
  std::string retry_after_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  httplib::Headers last_headers_;
};

RetryPolicy fast_retries(int attempts) {
  RetryPolicy policy;
  policy.max_attempts = attempts;
  policy.initial_backoff = milliseconds(10);
  policy.max_backoff = milliseconds(50);
  return policy;
}

TEST(HttpClientTest, SendsMethodsBodiesAndHeaders) {
  TestServer server;
  HttpClient client(HttpOptions{});
  for (std::string method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    HttpRequest request;
    request.method = method;
    request.url = server.url("/echo");
    request.headers = {{"X-Custom", "value " + method}};
    if (method != "GET" && method != "DELETE") request.body = "body of " + method;
    auto response = client.request(request);
    ASSERT_TRUE(response.ok()) << response.error().to_string();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, method + "\n" + request.body);
    EXPECT_EQ(response->headers["x-echo"], "value " + method);  // names come back lower-case
    EXPECT_EQ(response->effective_url, server.url("/echo"));
    if (request.body.empty()) {
      EXPECT_FALSE(server.has_header("Content-Type")) << method;
    } else {
      EXPECT_EQ(server.header("Content-Type"), "application/octet-stream") << method;
    }
  }
}

TEST(HttpClientTest, CallerContentTypeWinsAndHeadHasNoBody) {
  TestServer server;
  HttpClient client(HttpOptions{});
  HttpRequest request;
  request.method = "POST";
  request.url = server.url("/echo");
  request.headers = {{"Content-Type", "application/json"}};
  request.body = "{}";
  ASSERT_TRUE(client.request(request).ok());
  EXPECT_EQ(server.header("Content-Type"), "application/json");

  request = HttpRequest{};
  request.method = "HEAD";
  request.url = server.url("/echo");
  auto response = client.request(request);
  ASSERT_TRUE(response.ok()) << response.error().to_string();
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->body.empty());
}

TEST(HttpClientTest, BodyOverTheLimitIsResourceExhausted) {
  TestServer server;
  HttpClient client(HttpOptions{});
  for (std::string path : {"/big", "/big-chunked"}) {  // with and without Content-Length
    auto response = client.get(server.url(path), 1000);
    ASSERT_FALSE(response.ok()) << path;
    EXPECT_EQ(response.error().code, ErrorCode::kResourceExhausted) << path;
    auto exact = client.get(server.url(path), 1 << 20);
    ASSERT_TRUE(exact.ok()) << path << ": " << exact.error().to_string();
    EXPECT_EQ(exact->body.size(), 1u << 20);
  }
}

TEST(HttpClientTest, ErrorPagesAreResponsesWhateverTheLimit) {
  TestServer server;
  HttpClient client(HttpOptions{});
  auto response = client.get(server.url("/missing"), 10);
  ASSERT_TRUE(response.ok()) << response.error().to_string();
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->body.size(), 10000u);  // kept for the message, up to 64 KiB
}

TEST(HttpClientTest, RetriesServiceUnavailableThenSucceeds) {
  TestServer server;
  server.fail(503, 2, "0");
  HttpClient client(HttpOptions{});
  HttpRequest request;
  request.url = server.url("/flaky");
  auto response = client.request_with_retries(request, fast_retries(4));
  ASSERT_TRUE(response.ok()) << response.error().to_string();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "finally");
  EXPECT_EQ(server.hits(), 3);
}

TEST(HttpClientTest, HonoursRetryAfterOnTooManyRequests) {
  TestServer server;
  server.fail(429, 1, "1");
  HttpClient client(HttpOptions{});
  HttpRequest request;
  request.url = server.url("/flaky");
  auto start = steady_clock::now();
  auto response = client.request_with_retries(request, fast_retries(3));
  ASSERT_TRUE(response.ok()) << response.error().to_string();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(server.hits(), 2);
  EXPECT_GE(steady_clock::now() - start, milliseconds(950));  // 1 s, not the 10 ms backoff
}

TEST(HttpClientTest, GivesUpAfterMaxAttemptsWithTheLastResponse) {
  TestServer server;
  server.fail(500, 100, "");
  HttpClient client(HttpOptions{});
  HttpRequest request;
  request.url = server.url("/flaky");
  auto response = client.request_with_retries(request, fast_retries(3));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(server.hits(), 3);
}

TEST(HttpClientTest, DoesNotRetryNotFound) {
  TestServer server;
  HttpClient client(HttpOptions{});
  HttpRequest request;
  request.url = server.url("/missing");
  auto response = client.request_with_retries(request, fast_retries(4));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(server.hits(), 1);
}

TEST(HttpClientTest, RetriesConnectionRefusedUntilTheServerIsUp) {
  int port = 0;
  {
    TestServer probe;  // a free port, closed again
    port = probe.port();
  }
  HttpClient client(HttpOptions{});
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/echo";
  auto refused = client.request(request);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kNetwork);

  std::unique_ptr<TestServer> late;
  std::thread starter([&] {
    std::this_thread::sleep_for(milliseconds(150));
    late = std::make_unique<TestServer>(port);
  });
  RetryPolicy policy = fast_retries(30);
  auto response = client.request_with_retries(request, policy);
  starter.join();
  ASSERT_EQ(late->port(), port) << "the port was taken meanwhile";
  ASSERT_TRUE(response.ok()) << response.error().to_string();
  EXPECT_EQ(response->status, 200);
}

TEST(HttpClientTest, WholeTransferTimeout) {
  TestServer server;
  HttpOptions options;
  options.timeout_s = 1;
  HttpClient client(options);
  auto start = steady_clock::now();
  auto response = client.get(server.url("/slow"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kNetwork);
  EXPECT_LT(steady_clock::now() - start, milliseconds(1900));
}

TEST(HttpClientTest, FollowsRedirectsAndReportsTheFinalUrl) {
  TestServer server;
  HttpClient client(HttpOptions{});
  auto response = client.get(server.url("/redirect"));
  ASSERT_TRUE(response.ok()) << response.error().to_string();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "GET\n");
  EXPECT_EQ(response->effective_url, server.url("/echo"));
}

TEST(HttpClientTest, RejectsOtherSchemes) {
  HttpClient client(HttpOptions{});
  for (std::string url : {"ftp://127.0.0.1/x", "file:///etc/passwd"}) {
    auto response = client.get(url);
    ASSERT_FALSE(response.ok()) << url;
    EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument) << url;
  }
}

TEST(HttpClientTest, SigV4AuthorizationHeaderShape) {
  TestServer server;
  HttpClient client(HttpOptions{});
  HttpRequest request;
  request.method = "PUT";
  request.url = server.url("/echo");
  request.body = "payload";
  request.sigv4 = AwsSigV4{"AKIDEXAMPLE", "secret", "session-token", "eu-west-1", "s3"};
  auto response = client.request(request);
  ASSERT_TRUE(response.ok()) << response.error().to_string();

  std::smatch match;
  std::string authorization = server.header("Authorization");
  ASSERT_TRUE(std::regex_match(
      authorization, match,
      std::regex("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/([0-9]{8})/eu-west-1/s3/aws4_request, "
                 "SignedHeaders=([a-z0-9;-]+), Signature=[0-9a-f]{64}")))
      << authorization;
  std::string date = match[1];
  std::string signed_headers = match[2];
  for (const char* name : {"host", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"}) {
    EXPECT_NE((";" + signed_headers + ";").find(";" + std::string(name) + ";"), std::string::npos)
        << name << " is not in " << signed_headers;
  }
  std::string amz_date = server.header("X-Amz-Date");
  EXPECT_TRUE(std::regex_match(amz_date, std::regex("[0-9]{8}T[0-9]{6}Z"))) << amz_date;
  EXPECT_EQ(amz_date.substr(0, 8), date);
  EXPECT_EQ(server.header("X-Amz-Content-Sha256"), Sha256::of("payload"));
  EXPECT_EQ(server.header("X-Amz-Security-Token"), "session-token");
}

TEST(HttpClientTest, SigV4KeepsACallerPayloadHashAndNeverSendsTheBearerToken) {
  TestServer server;
  HttpOptions options;
  options.bearer_token = "hub-token";
  HttpClient client(options);
  HttpRequest request;
  request.url = server.url("/echo");
  request.headers = {{"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}};
  request.sigv4 = AwsSigV4{"AKID", "secret", "", "us-east-1", "s3"};
  ASSERT_TRUE(client.request(request).ok());
  EXPECT_EQ(server.header("X-Amz-Content-Sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_TRUE(server.header("Authorization").starts_with("AWS4-HMAC-SHA256 "));
  EXPECT_FALSE(server.has_header("X-Amz-Security-Token"));
}

TEST(HttpClientTest, RetryableStatuses) {
  for (long status : {408L, 429L, 500L, 502L, 503L, 504L}) EXPECT_TRUE(is_retryable_status(status));
  for (long status : {200L, 301L, 400L, 403L, 404L, 501L})
    EXPECT_FALSE(is_retryable_status(status));
}

}  // namespace
}  // namespace lookalike
