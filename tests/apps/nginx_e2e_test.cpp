// The shipped nginx configuration (deploy/nginx.conf + deploy/nginx/lookalike.conf, only ports,
// paths and the certificate substituted: tests/nginx_server.h) in front of the real
// `lookalike serve`, over HTTPS with a self-signed certificate: search through the proxy, images
// served by nginx from the data dir, traversal refused, http → https, the 20 MB upload limit,
// /metrics restricted, X-Forwarded-For set by nginx and honoured by `serve --trust-proxy`.
#include <gtest/gtest.h>
#include <httplib.h>

#include <regex>

#include <nlohmann/json.hpp>

#include "nginx_server.h"
#include "server_process.h"
#include "test_catalogue.h"
#include "test_support.h"

namespace lookalike::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path tiny_model() { return conformance_dir() / "models" / "tiny-p32"; }

struct Answer {
  int status = 0;  // 0: no answer
  std::string body;
  httplib::Headers headers;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  json parsed() const { return json::parse(body, nullptr, false); }
};

struct Request {
  std::string method = "GET";
  std::string path;
  std::string content_type;
  std::string body;
  httplib::Headers headers;
  std::string from;  // the client's source address (127.0.0.x); empty: any
};

Answer to_answer(const httplib::Result& result) {
  Answer answer;
  if (!result) return answer;
  answer.status = result->status;
  answer.body = result->body;
  answer.headers = result->headers;
  return answer;
}

httplib::Request to_request(const Request& r) {
  httplib::Request request;
  request.method = r.method;
  request.path = r.path;
  request.headers = r.headers;
  if (!r.content_type.empty()) request.headers.emplace("Content-Type", r.content_type);
  request.body = r.body;
  return request;
}

// HTTPS to nginx, verifying its certificate (self-signed, for 127.0.0.1) as the CA.
Answer https(const NginxServer& nginx, const Request& r) {
  httplib::SSLClient client("127.0.0.1", nginx.https_port());
  client.set_ca_cert_path(nginx.certificate().c_str());
  client.enable_server_certificate_verification(true);
  client.set_read_timeout(60, 0);
  client.set_write_timeout(60, 0);
  client.set_decompress(false);
  if (!r.from.empty()) client.set_interface(r.from);
  return to_answer(client.send(to_request(r)));
}

Answer plain_http(int port, const Request& r) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(60, 0);
  if (!r.from.empty()) client.set_interface(r.from);
  return to_answer(client.send(to_request(r)));
}

Request multipart(const std::string& path, const std::string& file_bytes) {
  const std::string boundary = "----lookalike-nginx-e2e-51c2";
  Request r;
  r.method = "POST";
  r.path = path;
  r.content_type = "multipart/form-data; boundary=" + boundary;
  r.body = "--" + boundary +
           "\r\nContent-Disposition: form-data; name=\"top_k\"\r\n\r\n5\r\n"
           "--" +
           boundary +
           "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"q.jpg\"\r\n"
           "Content-Type: image/jpeg\r\n\r\n" +
           file_bytes + "\r\n--" + boundary + "--\r\n";
  return r;
}

class NginxE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    data_ = dir_->path() / "data";
    catalogue_ = make_test_catalogue(dir_->path() / "photos", 8, 2, 41);
    auto ingested = run_command({lookalike_binary().string(), "ingest",
                                 (dir_->path() / "photos").string(), "--id-prefix", "shop_",
                                 "--model", tiny_model().string(), "--data-dir", data_.string()});
    ASSERT_EQ(ingested.exit_code, 0) << ingested.err;
    server_ = ServerProcess::start({"--model", tiny_model().string(), "--data-dir", data_.string(),
                                    "--trust-proxy", "--rate-limit", "0"});
    ASSERT_NE(server_, nullptr);
    auto nginx = NginxServer::start({.upstream_port = server_->port(), .data_dir = data_});
    ASSERT_TRUE(nginx) << nginx.error().message;
    nginx_ = std::move(nginx).value();
  }

  static void TearDownTestSuite() {
    nginx_.reset();
    if (server_ != nullptr) {
      EXPECT_EQ(server_->stop(), 0) << server_->log();
    }
    server_.reset();
    dir_.reset();
  }

  void SetUp() override {
    if (server_ == nullptr || nginx_ == nullptr)
      GTEST_SKIP() << "the suite's servers did not start";
  }

  static Answer https(const Request& r) { return lookalike::testing::https(*nginx_, r); }

  // The first result of a by-image search through nginx for a rescaled copy of product i's photo.
  static json search_by_image(int i) {
    const auto& product = catalogue_.products[static_cast<std::size_t>(i)];
    const Answer answer =
        https(multipart("/api/v1/search/by-image", rescaled_jpeg(product.images[0], 0.7, 70)));
    EXPECT_EQ(answer.status, 200) << answer.body << "\n" << nginx_->log_tail();
    return answer.parsed();
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline fs::path data_;
  static inline TestCatalogue catalogue_;
  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::unique_ptr<NginxServer> nginx_;
};

TEST_F(NginxE2eTest, ByImageSearchOverHttpsFindsTheProduct) {
  for (int i : {0, 3, 7}) {
    const json found = search_by_image(i);
    ASSERT_TRUE(found.contains("results")) << found.dump();
    ASSERT_FALSE(found["results"].empty());
    EXPECT_EQ(found["results"][0]["product"]["external_id"],
              "shop_" + catalogue_.products[static_cast<std::size_t>(i)].id);
  }
  // A proxied answer: the server's request id, nginx's security headers.
  const Answer health = https({.path = "/api/v1/health"});
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.parsed()["status"], "ok");
  EXPECT_FALSE(health.header("X-Request-Id").empty());
  EXPECT_NE(health.header("Strict-Transport-Security").find("max-age="), std::string::npos);
  EXPECT_EQ(health.header("X-Content-Type-Options"), "nosniff");
  EXPECT_FALSE(health.header("X-Frame-Options").empty());
  EXPECT_FALSE(health.header("Referrer-Policy").empty());
}

TEST_F(NginxE2eTest, ImagesAreServedByNginxWithTheStoredBytes) {
  const json found = search_by_image(2);
  ASSERT_FALSE(found["results"].empty());
  const std::string url = found["results"][0]["image_url"];
  ASSERT_TRUE(url.starts_with("/images/")) << url;
  const Answer image = https({.path = url});
  ASSERT_EQ(image.status, 200) << image.body;
  EXPECT_EQ(image.body, read_bytes(data_ / url.substr(1)));
  EXPECT_EQ(image.header("Content-Type"), "image/jpeg");
  const std::string cache = image.header("Cache-Control");
  EXPECT_NE(cache.find("immutable"), std::string::npos) << cache;
  EXPECT_NE(cache.find("max-age=31536000"), std::string::npos) << cache;
  EXPECT_NE(cache.find("public"), std::string::npos) << cache;
  EXPECT_EQ(image.header("X-Content-Type-Options"), "nosniff");
  EXPECT_FALSE(image.header("Strict-Transport-Security").empty());
  EXPECT_TRUE(image.header("X-Request-Id").empty()) << "answered by the server, not by nginx";
  EXPECT_FALSE(image.header("ETag").empty());

  // No directory listings, no writes, and missing images are JSON 404s.
  for (const std::string& path : {std::string("/images/"), url.substr(0, url.rfind('/') + 1),
                                  std::string("/images/shop_none/image_1.jpg")}) {
    const Answer missing = https({.path = path});
    EXPECT_EQ(missing.status, 404) << path << ": " << missing.body;
    EXPECT_EQ(missing.parsed()["error"]["code"], "not_found") << path << ": " << missing.body;
  }
  const Answer post =
      https({.method = "POST", .path = url, .content_type = "image/jpeg", .body = "x"});
  EXPECT_EQ(post.status, 403);
}

TEST_F(NginxE2eTest, PathTraversalIsRefused) {
  ASSERT_TRUE(fs::exists(data_ / "catalog.sqlite3"));
  const std::string url = search_by_image(1)["results"][0]["image_url"];
  const std::string product_dir = url.substr(0, url.rfind('/'));  // /images/shop_x
  for (const std::string& path :
       {std::string("/images/../catalog.sqlite3"), std::string("/images/%2e%2e/catalog.sqlite3"),
        std::string("/images/%2E%2E/catalog.sqlite3"), std::string("/images/..%2fcatalog.sqlite3"),
        std::string("/images/%2e%2e%2fcatalog.sqlite3"),
        std::string("/images/.%2e/catalog.sqlite3"), std::string("/images/..%5ccatalog.sqlite3"),
        std::string("/images/%252e%252e/catalog.sqlite3"), product_dir + "/../../catalog.sqlite3",
        product_dir + "/%2e%2e/%2e%2e/catalog.sqlite3",
        std::string("/images/../../../../etc/passwd"),
        std::string("/images//../catalog.sqlite3")}) {
    SCOPED_TRACE(path);
    const Answer answer = https({.path = path});
    EXPECT_TRUE(answer.status == 400 || answer.status == 404)
        << answer.status << " " << answer.body;
    EXPECT_EQ(answer.body.find("SQLite format 3"), std::string::npos);
    EXPECT_EQ(answer.body.find("root:"), std::string::npos);
  }
}

TEST_F(NginxE2eTest, PlainHttpRedirectsToHttps) {
  const Answer answer = plain_http(nginx_->http_port(), {.path = "/api/v1/health?probe=1"});
  EXPECT_EQ(answer.status, 301);
  const std::string location = answer.header("Location");
  EXPECT_TRUE(location.starts_with("https://")) << location;
  EXPECT_TRUE(location.ends_with("/api/v1/health?probe=1")) << location;
  EXPECT_TRUE(plain_http(nginx_->http_port(), {.path = "/images/x.jpg"})
                  .header("Location")
                  .starts_with("https://"));
}

TEST_F(NginxE2eTest, UploadsOver20MbAreRefusedByNginx) {
  Request big{.method = "POST",
              .path = "/api/v1/search/by-image",
              .content_type = "image/jpeg",
              .body = std::string(21u << 20, '\xff')};
  const Answer refused = https(big);
  EXPECT_EQ(refused.status, 413) << refused.body;
  EXPECT_EQ(refused.parsed()["error"]["code"], "payload_too_large") << refused.body;
  EXPECT_TRUE(refused.header("X-Request-Id").empty()) << "nginx, not the server, refuses it";
  // Under the limit the upload reaches the server (which refuses it as not an image).
  big.body.resize(1u << 20);
  const Answer passed = https(big);
  EXPECT_FALSE(passed.header("X-Request-Id").empty()) << passed.status << " " << passed.body;
  EXPECT_TRUE(passed.status == 415 || passed.status == 422) << passed.status << " " << passed.body;
}

TEST_F(NginxE2eTest, MetricsOnlyFromAllowedAddresses) {
  const Answer local = https({.path = "/metrics", .from = "127.0.0.1"});
  EXPECT_EQ(local.status, 200);
  EXPECT_TRUE(local.header("Content-Type").starts_with("text/plain"))
      << local.header("Content-Type");
  EXPECT_NE(local.body.find("lookalike_http_requests_total"), std::string::npos);
  // 127.0.0.2 is on the loopback interface but not in the allow list.
  const Answer other = https({.path = "/metrics", .from = "127.0.0.2"});
  EXPECT_EQ(other.status, 403) << other.body;
  EXPECT_EQ(other.body.find("lookalike_"), std::string::npos);
  const std::regex metrics_location(
      R"(location = /metrics \{[^}]*allow 127\.0\.0\.1;[^}]*deny all;)");
  EXPECT_TRUE(std::regex_search(nginx_->site_config(), metrics_location));
}

TEST_F(NginxE2eTest, PagesAndDocsAreProxiedAndCompressed) {
  for (const char* path : {"/", "/docs"}) {
    const Answer page = https({.path = path});
    EXPECT_EQ(page.status, 200) << path;
    EXPECT_TRUE(page.header("Content-Type").starts_with("text/html")) << path;
  }
  const Answer document =
      https({.path = "/openapi.json", .headers = {{"Accept-Encoding", "gzip"}}});
  EXPECT_EQ(document.status, 200);
  EXPECT_EQ(document.header("Content-Encoding"), "gzip");
  const Answer unknown = https({.path = "/api/v1/nope"});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.parsed()["error"]["code"], "not_found") << unknown.body;
}

// nginx overwrites X-Forwarded-For with the connecting address, and `serve --trust-proxy` takes the
// client from it: clients behind nginx get rate-limit buckets of their own, and a client cannot
// pick another bucket by sending the header itself.
TEST_F(NginxE2eTest, ForwardedForIsSetByNginxAndHonouredByTheServer) {
  TempDir dir;
  auto limited = ServerProcess::start({"--model", tiny_model().string(), "--data-dir",
                                       (dir.path() / "data").string(), "--trust-proxy",
                                       "--rate-limit", "0.01", "--rate-burst", "3"});
  ASSERT_NE(limited, nullptr);
  auto started =
      NginxServer::start({.upstream_port = limited->port(), .data_dir = dir.path() / "data"});
  ASSERT_TRUE(started) << started.error().message;
  const auto& nginx = **started;

  auto products = [&](const std::string& from, const std::string& forwarded_for) {
    Request r{.path = "/api/v1/products?limit=1", .from = from};
    if (!forwarded_for.empty()) r.headers.emplace("X-Forwarded-For", forwarded_for);
    return lookalike::testing::https(nginx, r);
  };
  // 127.0.0.1's bucket runs dry, whatever address it claims.
  Answer answer;
  for (int i = 0; i < 10 && answer.status != 429; ++i)
    answer = products("127.0.0.1", "203.0.113.1");
  ASSERT_EQ(answer.status, 429) << answer.body;
  EXPECT_EQ(answer.parsed()["error"]["code"], "rate_limited");
  EXPECT_FALSE(answer.header("Retry-After").empty());
  answer = products("127.0.0.1", "203.0.113.2");
  EXPECT_EQ(answer.status, 429) << "a client-sent X-Forwarded-For reached the server";
  // Another client behind nginx has a bucket of its own: the server read nginx's header.
  answer = products("127.0.0.2", "");
  EXPECT_EQ(answer.status, 200) << answer.body;
  // And straight to the server, the header is what it goes by.
  Request direct{.path = "/api/v1/products?limit=1",
                 .headers = {{"X-Forwarded-For", "198.51.100.7"}}};
  EXPECT_EQ(plain_http(limited->port(), direct).status, 200);
  EXPECT_EQ(limited->stop(), 0) << limited->log();
}

}  // namespace
}  // namespace lookalike::testing
