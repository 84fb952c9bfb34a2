// Black-box tests of `lookalike serve`: every route of docs/API.md through the real binary, with
// the tiny conformance model on a generated catalogue — happy paths and every listed error.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server_process.h"
#include "test_catalogue.h"
#include "test_support.h"

namespace lookalike::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kAdminKey = "admin-secret-key";
constexpr const char* kSearchKey = "search-secret-key";

fs::path tiny_model() { return conformance_dir() / "models" / "tiny-p32"; }

std::uint32_t crc32(const std::string& bytes) {
  std::uint32_t crc = 0xffffffffu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// A PNG whose header claims 40000 x 40000 pixels: a decompression bomb in a few dozen bytes.
std::string bomb_png() {
  std::string ihdr = "IHDR" + be32(40000) + be32(40000) + std::string("\x08\x02\x00\x00\x00", 5);
  std::string idat = "IDAT" + std::string("\x78\x9c\x03\x00\x00\x00\x00\x01", 8);
  return std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + ihdr + be32(crc32(ihdr)) + be32(8) +
         idat + be32(crc32(idat)) + be32(0) + "IEND" + be32(crc32("IEND"));
}

class ServeE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalogue_ = make_test_catalogue(dir_ / "catalogue", 30, 2, 7);
    write_csv_manifest(catalogue_, dir_ / "catalogue.csv");  // categories and prices too
    auto result =
        run_command({lookalike_binary().string(), "ingest", (dir_ / "catalogue.csv").string(),
                     "--data-dir", data_dir(), "--model", tiny_model().string()});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }

  std::string data_dir() const { return (dir_ / "data").string(); }

  void start(std::vector<std::string> extra = {},
             EnvVars env = {{"LOOKALIKE_ADMIN_API_KEY", kAdminKey}}) {
    std::vector<std::string> args{"--data-dir", data_dir(), "--model", tiny_model().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = ServerProcess::start(args, env);
    ASSERT_NE(server_, nullptr);
    client_ = std::make_unique<httplib::Client>(server_->url());
    client_->set_read_timeout(30, 0);
  }

  httplib::Headers admin() const { return {{"X-API-Key", kAdminKey}}; }

  httplib::Result search_image(const std::string& bytes, const std::string& query = "") {
    httplib::MultipartFormDataItems items{{"file", bytes, "query.jpg", "image/jpeg"}};
    return client_->Post("/api/v1/search/by-image" + query, items);
  }

  httplib::Result search_text(const json& body) {
    return client_->Post("/api/v1/search/by-text", body.dump(), "application/json");
  }

  // The error code of an error answer (and checks its shape).
  static std::string error_code(const httplib::Result& response) {
    if (!response) return "no response";
    auto body = json::parse(response->body, nullptr, false);
    if (body.is_discarded() || !body.contains("error")) return "not an error body";
    EXPECT_TRUE(body["error"]["message"].is_string());
    return body["error"]["code"].get<std::string>();
  }

  std::string query_photo(int product) const {
    return rescaled_jpeg(catalogue_.products[product].images[0], 0.8, 85);
  }

  TempDir dir_;
  TestCatalogue catalogue_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ServeE2eTest, HealthAndReadinessAnswerWithRequestIds) {
  start();
  auto health = client_->Get("/api/v1/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body)["status"], "ok");
  EXPECT_FALSE(health->get_header_value("X-Request-Id").empty());
  auto ready = client_->Get("/api/v1/health/ready", {{"X-Request-Id", "trace-42"}});
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(json::parse(ready->body)["checks"]["catalog"], "ok");
  EXPECT_EQ(ready->get_header_value("X-Request-Id"), "trace-42");
}

TEST_F(ServeE2eTest, ByImageMultipartAndRawBodyFindTheProductFirst) {
  start();
  for (int product : {0, 11, 29}) {
    auto response = search_image(query_photo(product));
    ASSERT_TRUE(response);
    ASSERT_EQ(response->status, 200) << response->body;
    auto body = json::parse(response->body);
    EXPECT_EQ(body["results"][0]["product"]["external_id"], catalogue_.products[product].id);
    EXPECT_TRUE(body["results"][0]["image_url"].get<std::string>().starts_with("/images/"));
    EXPECT_GT(body["took_ms"].get<double>(), 0);
    EXPECT_EQ(body["total"], body["results"].size());
  }
  auto raw = client_->Post("/api/v1/search/by-image?top_k=3", query_photo(5), "image/jpeg");
  ASSERT_TRUE(raw);
  ASSERT_EQ(raw->status, 200) << raw->body;
  auto body = json::parse(raw->body);
  EXPECT_LE(body["results"].size(), 3u);
  EXPECT_EQ(body["results"][0]["product"]["external_id"], catalogue_.products[5].id);
  // One result per product.
  std::set<std::string> ids;
  for (const auto& result : body["results"]) ids.insert(result["product"]["external_id"]);
  EXPECT_EQ(ids.size(), body["results"].size());
}

TEST_F(ServeE2eTest, ByImageFiltersAndFormFields) {
  start();
  const auto& product = catalogue_.products[3];
  httplib::MultipartFormDataItems items{{"file", query_photo(3), "q.jpg", "image/jpeg"},
                                        {"category", product.category, "", ""},
                                        {"top_k", "5", "", ""}};
  auto response = client_->Post("/api/v1/search/by-image", items);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  const auto body = json::parse(response->body);
  ASSERT_FALSE(body["results"].empty()) << response->body;
  EXPECT_LE(body["results"].size(), 5u);
  EXPECT_EQ(body["results"][0]["product"]["external_id"], product.id);
  for (const auto& result : body["results"]) {
    EXPECT_EQ(result["product"]["category"], product.category);
  }
  auto priced = search_image(query_photo(3), "?min_price=100&max_price=200.50");
  ASSERT_TRUE(priced);
  ASSERT_EQ(priced->status, 200);
  ASSERT_FALSE(json::parse(priced->body)["results"].empty());
  for (const auto& result : json::parse(priced->body)["results"]) {
    EXPECT_GE(result["product"]["price"].get<double>(), 100.0);
    EXPECT_LE(result["product"]["price"].get<double>(), 200.5);
  }
}

TEST_F(ServeE2eTest, ByImageRejectsBadUploadsWithTheRightStatus) {
  start({"--max-upload-mb", "1"});
  auto photo = read_bytes(catalogue_.products[0].images[0]);
  struct Case {
    std::string bytes;
    int status;
    std::string code;
  };
  std::vector<Case> cases{
      {photo.substr(0, photo.size() / 2), 422, "invalid_image"},  // truncated JPEG
      {"\xff\xd8\xff\xe0 not really a jpeg", 422, "invalid_image"},
      {"plain text is not an image", 415, "unsupported_media_type"},
      {bomb_png(), 413, "image_too_large"},
  };
  for (const auto& c : cases) {
    auto response = search_image(c.bytes);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, c.status) << response->body;
    EXPECT_EQ(error_code(response), c.code);
  }
  auto too_big = client_->Post("/api/v1/search/by-image", std::string(2u << 20, 'x'), "image/jpeg");
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->status, 413);
  EXPECT_EQ(error_code(too_big), "payload_too_large");
  httplib::MultipartFormDataItems no_file{{"top_k", "3", "", ""}};
  auto missing = client_->Post("/api/v1/search/by-image", no_file);
  EXPECT_EQ(missing->status, 400);
  auto wrong_type = client_->Post("/api/v1/search/by-image", "hello", "text/plain");
  EXPECT_EQ(wrong_type->status, 415);
  auto empty = client_->Post("/api/v1/search/by-image", "", "image/jpeg");
  EXPECT_EQ(empty->status, 400);
  for (const char* query :
       {"?top_k=0", "?top_k=1001", "?top_k=abc", "?threshold=2", "?min_price=-1",
        "?min_price=50&max_price=10", "?offset=-1", "?offset=9999&top_k=100", "?max_price=1e99"}) {
    auto response = search_image(photo, query);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400) << query << " " << response->body;
    EXPECT_EQ(error_code(response), "invalid_argument") << query;
  }
  // The server survived every one of them.
  EXPECT_EQ(client_->Get("/api/v1/health")->status, 200);
}

TEST_F(ServeE2eTest, ByTextAnswersChecksItsBodyAndCachesQueries) {
  start();
  auto response = search_text({{"query", "a red leather handbag"}, {"top_k", 4}});
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  auto body = json::parse(response->body);
  EXPECT_EQ(body["results"].size(), 4u);
  auto filtered = search_text({{"query", "shoes"},
                               {"filters", {{"category", "cat3"}, {"max_price", "250"}}},
                               {"threshold", nullptr},
                               {"offset", 1}});
  ASSERT_EQ(filtered->status, 200) << filtered->body;
  ASSERT_FALSE(json::parse(filtered->body)["results"].empty());
  for (const auto& result : json::parse(filtered->body)["results"]) {
    EXPECT_EQ(result["product"]["category"], "cat3");
    EXPECT_LE(result["product"]["price"].get<double>(), 250.0);
  }
  struct Case {
    std::string body;
    std::string code;
  };
  std::vector<Case> cases{
      {"{not json", "malformed_json"},
      {"[1, 2]", "malformed_json"},
      {"", "malformed_json"},
      {R"({"top_k": 3})", "invalid_argument"},
      {R"({"query": ""})", "invalid_argument"},
      {R"({"query": 42})", "invalid_argument"},
      {R"({"query": "x", "top_k": 1001})", "invalid_argument"},
      {R"({"query": "x", "top_k": "ten"})", "invalid_argument"},
      {R"({"query": "x", "threshold": 1.5})", "invalid_argument"},
      {R"({"query": "x", "filters": {"min_price": "abc"}})", "invalid_argument"},
      {R"({"query": "x", "filters": {"colour": "red"}})", "invalid_argument"},
      {R"({"query": "x", "topk": 3})", "invalid_argument"},
  };
  for (const auto& c : cases) {
    auto bad = client_->Post("/api/v1/search/by-text", c.body, "application/json");
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400) << c.body;
    EXPECT_EQ(error_code(bad), c.code) << c.body;
  }
  // curl -d sends form-encoded bodies, which httplib caps at 8 KiB: the error says what to do.
  auto form =
      client_->Post("/api/v1/search/by-text", "{\"query\": \"" + std::string(10000, 'a') + "\"}",
                    "application/x-www-form-urlencoded");
  EXPECT_EQ(form->status, 413);
  EXPECT_NE(form->body.find("application/json"), std::string::npos) << form->body;
  ASSERT_EQ(search_text({{"query", "a red leather handbag"}})->status, 200);
  auto metrics = client_->Get("/metrics")->body;
  EXPECT_NE(metrics.find("lookalike_text_cache_hits_total 1"), std::string::npos) << metrics;
}

TEST_F(ServeE2eTest, ByProductIsMoreLikeThisWithoutTheProductItself) {
  start();
  const auto& external_id = catalogue_.products[2].id;
  auto response = client_->Post("/api/v1/search/by-product/" + external_id + "?top_k=5", "",
                                "application/json");
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  auto body = json::parse(response->body);
  EXPECT_EQ(body["results"].size(), 5u);
  for (const auto& result : body["results"])
    EXPECT_NE(result["product"]["external_id"], external_id);
  auto product = json::parse(client_->Get("/api/v1/products/" + external_id)->body);
  auto by_id =
      client_->Post("/api/v1/search/by-product/" + std::to_string(product["id"].get<int>()),
                    R"({"top_k": 2})", "application/json");
  ASSERT_EQ(by_id->status, 200) << by_id->body;
  EXPECT_EQ(json::parse(by_id->body)["results"].size(), 2u);
  EXPECT_EQ(client_->Post("/api/v1/search/by-product/no-such-product", "", "")->status, 404);
  EXPECT_EQ(client_->Post("/api/v1/search/by-product/" + external_id + "?top_k=0", "", "")->status,
            400);
}

TEST_F(ServeE2eTest, ProductsCrudKeepsTheIndexInStep) {
  start();
  json input = {{"external_id", "new-1"}, {"title", "Red handbag"}, {"price", "49.90"},
                {"category", "bags"},     {"currency", "EUR"},      {"metadata", {{"a", 1}}}};
  auto created = client_->Post("/api/v1/products", admin(), input.dump(), "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  auto product = json::parse(created->body);
  EXPECT_EQ(product["price"], 49.9);
  EXPECT_EQ(product["product_metadata"]["a"], 1);
  EXPECT_EQ(created->get_header_value("Location"),
            "/api/v1/products/" + std::to_string(product["id"].get<int>()));
  EXPECT_EQ(client_->Post("/api/v1/products", admin(), input.dump(), "application/json")->status,
            409);
  EXPECT_EQ(
      client_->Post("/api/v1/products", admin(), R"({"external_id": "x"})", "application/json")
          ->status,
      400);
  EXPECT_EQ(client_
                ->Post("/api/v1/products", admin(),
                       R"({"external_id": "x", "title": "t", "price": "abc"})", "application/json")
                ->status,
            400);
  EXPECT_EQ(client_->Post("/api/v1/products", admin(), "{oops", "application/json")->status, 400);

  auto list = json::parse(client_->Get("/api/v1/products?offset=0&limit=10")->body);
  EXPECT_EQ(list["total"], 31);
  EXPECT_EQ(list["items"].size(), 10u);
  auto bags = json::parse(client_->Get("/api/v1/products?category=bags")->body);
  EXPECT_EQ(bags["total"], 1);
  EXPECT_EQ(client_->Get("/api/v1/products?limit=0")->status, 400);
  EXPECT_EQ(client_->Get("/api/v1/products?limit=x")->status, 400);

  auto replaced = client_->Put("/api/v1/products/new-1", admin(),
                               R"({"title": "Blue handbag", "price": 10})", "application/json");
  ASSERT_EQ(replaced->status, 200) << replaced->body;
  EXPECT_TRUE(json::parse(replaced->body)["category"].is_null());  // PUT clears what is absent
  auto patched = client_->Patch("/api/v1/products/new-1", admin(), R"({"price": "12.50"})",
                                "application/json");
  ASSERT_EQ(patched->status, 200) << patched->body;
  EXPECT_EQ(json::parse(patched->body)["title"], "Blue handbag");
  EXPECT_EQ(json::parse(patched->body)["price"], 12.5);
  EXPECT_EQ(client_
                ->Patch("/api/v1/products/new-1", admin(), R"({"external_id": "other"})",
                        "application/json")
                ->status,
            400);
  EXPECT_EQ(client_->Patch("/api/v1/products/nope", admin(), "{}", "application/json")->status,
            404);

  // A catalogue product deleted leaves search at once.
  const auto& victim = catalogue_.products[4].id;
  ASSERT_EQ(json::parse(search_image(query_photo(4))->body)["results"][0]["product"]["external_id"],
            victim);
  ASSERT_EQ(client_->Delete("/api/v1/products/" + victim, admin())->status, 204);
  EXPECT_EQ(client_->Get("/api/v1/products/" + victim)->status, 404);
  auto after = json::parse(search_image(query_photo(4))->body);
  for (const auto& result : after["results"]) EXPECT_NE(result["product"]["external_id"], victim);
  EXPECT_EQ(client_->Delete("/api/v1/products/" + victim, admin())->status, 404);
}

TEST_F(ServeE2eTest, UploadedImagesAreSearchableOnReturnAndCanBeRemoved) {
  start();
  ASSERT_EQ(client_
                ->Post("/api/v1/products", admin(), R"({"external_id": "up", "title": "Upload"})",
                       "application/json")
                ->status,
            201);
  // A photo unlike every catalogue picture: one of the conformance images.
  auto photo = read_bytes(conformance_dir() / "images" / "photo_640x480_q90.jpg");
  httplib::MultipartFormDataItems items{{"file", photo, "photo.jpg", "image/jpeg"}};
  auto added = client_->Post("/api/v1/products/up/images", admin(), items);
  ASSERT_TRUE(added);
  ASSERT_EQ(added->status, 201) << added->body;
  auto image = json::parse(added->body);
  EXPECT_EQ(image["position"], 1);
  EXPECT_EQ(image["format"], "jpeg");
  auto found = json::parse(search_image(photo)->body);
  EXPECT_EQ(found["results"][0]["product"]["external_id"], "up");
  EXPECT_GT(found["results"][0]["score"].get<double>(), 0.99);
  // The stored copy is served, byte for byte.
  auto served = client_->Get(image["url"].get<std::string>());
  ASSERT_EQ(served->status, 200);
  EXPECT_EQ(served->body, photo);
  EXPECT_EQ(served->get_header_value("Content-Type"), "image/jpeg");

  httplib::MultipartFormDataItems corrupt{{"file", photo.substr(0, 500), "x.jpg", "image/jpeg"}};
  EXPECT_EQ(client_->Post("/api/v1/products/up/images", admin(), corrupt)->status, 422);
  EXPECT_EQ(client_->Post("/api/v1/products/up/images", admin(), photo, "image/jpeg")->status, 415);
  EXPECT_EQ(client_->Post("/api/v1/products/none/images", admin(), items)->status, 404);
  EXPECT_EQ(client_->Delete("/api/v1/products/up/images/9", admin())->status, 404);
  EXPECT_EQ(client_->Delete("/api/v1/products/up/images/x", admin())->status, 400);
  ASSERT_EQ(client_->Delete("/api/v1/products/up/images/1", admin())->status, 204);
  auto gone = json::parse(search_image(photo)->body);
  for (const auto& result : gone["results"]) EXPECT_NE(result["product"]["external_id"], "up");
  EXPECT_EQ(client_->Get(image["url"].get<std::string>())->status, 404);
}

TEST_F(ServeE2eTest, KeysGuardWritesAndOptionallySearch) {
  start({}, {{"LOOKALIKE_ADMIN_API_KEY", kAdminKey}, {"LOOKALIKE_SEARCH_API_KEY", kSearchKey}});
  json query = {{"query", "shoes"}};
  auto anonymous = search_text(query);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(anonymous->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(client_
                ->Post("/api/v1/search/by-text", {{"X-API-Key", kSearchKey}}, query.dump(),
                       "application/json")
                ->status,
            200);
  EXPECT_EQ(
      client_
          ->Post("/api/v1/search/by-text", {{"Authorization", std::string("Bearer ") + kSearchKey}},
                 query.dump(), "application/json")
          ->status,
      200);
  EXPECT_EQ(
      client_->Post("/api/v1/search/by-text", admin(), query.dump(), "application/json")->status,
      200);
  EXPECT_EQ(client_->Get("/api/v1/products")->status, 401);
  const std::string body = R"({"external_id": "k", "title": "t"})";
  EXPECT_EQ(client_->Post("/api/v1/products", {{"X-API-Key", kSearchKey}}, body, "application/json")
                ->status,
            403);
  EXPECT_EQ(
      client_->Post("/api/v1/products", {{"X-API-Key", "wrong"}}, body, "application/json")->status,
      401);
  EXPECT_EQ(client_->Post("/api/v1/products", body, "application/json")->status, 401);
  // Health, metrics and the page stay open.
  EXPECT_EQ(client_->Get("/api/v1/health")->status, 200);
  EXPECT_EQ(client_->Get("/metrics")->status, 200);
}

TEST_F(ServeE2eTest, WritesAreRefusedWithoutAnAdminKey) {
  start({}, {});
  auto response = client_->Post("/api/v1/products", R"({"external_id": "k", "title": "t"})",
                                "application/json");
  EXPECT_EQ(response->status, 403);
  EXPECT_EQ(error_code(response), "forbidden");
  EXPECT_EQ(client_->Delete("/api/v1/products/" + catalogue_.products[0].id)->status, 403);
  EXPECT_EQ(search_text({{"query", "shoes"}})->status, 200);
}

TEST_F(ServeE2eTest, RateLimitAnswers429WithRetryAfter) {
  start({"--rate-limit", "1", "--rate-burst", "3"});
  std::vector<int> statuses;
  for (int i = 0; i < 5; ++i) statuses.push_back(search_text({{"query", "x"}})->status);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 3);
  auto limited = search_text({{"query", "x"}});
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(error_code(limited), "rate_limited");
  EXPECT_GE(std::stoi(limited->get_header_value("Retry-After")), 1);
  // Another client (a key) has its own bucket; health checks are never limited.
  EXPECT_EQ(
      client_->Post("/api/v1/search/by-text", admin(), R"({"query": "x"})", "application/json")
          ->status,
      200);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(client_->Get("/api/v1/health")->status, 200);
}

TEST_F(ServeE2eTest, CorsAllowsOnlyConfiguredOrigins) {
  start({"--cors-origins", "https://shop.example, https://admin.example"});
  auto preflight = client_->Options(
      "/api/v1/search/by-text",
      {{"Origin", "https://shop.example"}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(preflight);
  EXPECT_EQ(preflight->status, 204);
  EXPECT_EQ(preflight->get_header_value("Access-Control-Allow-Origin"), "https://shop.example");
  EXPECT_NE(preflight->get_header_value("Access-Control-Allow-Headers").find("X-API-Key"),
            std::string::npos);
  auto other = client_->Post("/api/v1/search/by-text", {{"Origin", "https://evil.example"}},
                             R"({"query": "x"})", "application/json");
  EXPECT_EQ(other->status, 200);
  EXPECT_FALSE(other->has_header("Access-Control-Allow-Origin"));
}

TEST_F(ServeE2eTest, UnknownRoutesAndMethodsAreJsonErrors) {
  start();
  auto missing = client_->Get("/api/v1/nothing-here");
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(error_code(missing), "not_found");
  auto wrong_method = client_->Delete("/api/v1/search/by-text");
  EXPECT_EQ(wrong_method->status, 405);
  EXPECT_EQ(error_code(wrong_method), "method_not_allowed");
  EXPECT_EQ(wrong_method->get_header_value("Allow"), "POST");
  EXPECT_EQ(client_->Get("/api/v1/jobs/job_0000000000000000", admin())->status, 404);
  EXPECT_EQ(client_->Get("/api/v1/webhooks/wh_nope", admin())->status, 404);
}

TEST_F(ServeE2eTest, ImagesAreServedOnlyFromTheImagesDirectory) {
  start();
  auto product = json::parse(client_->Get("/api/v1/products/" + catalogue_.products[1].id)->body);
  auto url = product["images"][0]["url"].get<std::string>();
  auto image = client_->Get(url);
  ASSERT_EQ(image->status, 200);
  EXPECT_EQ(image->body, read_bytes(catalogue_.products[1].images[0]));
  EXPECT_NE(image->get_header_value("Cache-Control").find("max-age"), std::string::npos);
  fs::create_directories(dir_ / "outside");
  write_bytes(dir_ / "outside" / "secret.jpg", "secret");
  fs::create_symlink(dir_ / "outside", fs::path(data_dir()) / "images" / "link");
  for (const char* path :
       {"/images/../catalog.sqlite3", "/images/%2e%2e/catalog.sqlite3",
        "/images/..%2fcatalog.sqlite3", "/images//etc/passwd", "/images/./x/../../catalog.sqlite3",
        "/images/link/secret.jpg", "/images/", "/images/nothing.jpg", "/images/%00.jpg"}) {
    auto response = client_->Get(path);
    ASSERT_TRUE(response) << path;
    EXPECT_TRUE(response->status == 404 || response->status == 400)
        << path << " " << response->status;
    EXPECT_EQ(response->body.find("secret"), std::string::npos) << path;
    EXPECT_EQ(response->body.find("SQLite"), std::string::npos) << path;
  }
}

TEST_F(ServeE2eTest, PageDocsAndOpenApiAreServedFromTheBinary) {
  start();
  auto page = client_->Get("/");
  ASSERT_EQ(page->status, 200);
  EXPECT_TRUE(page->get_header_value("Content-Type").starts_with("text/html"));
  auto docs = client_->Get("/docs");
  ASSERT_EQ(docs->status, 200);
  EXPECT_NE(docs->body.find("swagger-ui-bundle.js"), std::string::npos);
  auto docs_script = client_->Get("/docs/docs.js");
  ASSERT_EQ(docs_script->status, 200);
  EXPECT_NE(docs_script->body.find("/openapi.json"), std::string::npos);
  auto openapi = client_->Get("/openapi.json");
  ASSERT_EQ(openapi->status, 200);
  EXPECT_TRUE(json::parse(openapi->body).contains("openapi"));
  auto etag = openapi->get_header_value("ETag");
  EXPECT_EQ(client_->Get("/openapi.json", {{"If-None-Match", etag}})->status, 304);
  EXPECT_EQ(client_->Get("/docs/swagger-ui-bundle.js")->status, 200);
}

TEST_F(ServeE2eTest, MetricsCountRequestsEmbeddingsAndTheIndex) {
  start();
  ASSERT_EQ(search_text({{"query", "shoes"}})->status, 200);
  ASSERT_EQ(search_image(query_photo(0))->status, 200);
  auto metrics = client_->Get("/metrics");
  ASSERT_EQ(metrics->status, 200);
  EXPECT_TRUE(metrics->get_header_value("Content-Type").starts_with("text/plain"));
  const auto& text = metrics->body;
  for (const char* expected :
       {"lookalike_http_requests_total{route=\"/api/v1/search/by-text\",method=\"POST\","
        "status=\"200\"} 1",
        "lookalike_http_request_duration_seconds_bucket{route=\"/api/v1/search/by-image\"",
        "lookalike_embedding_duration_seconds_count{kind=\"image\"} 1",
        "lookalike_embedding_batch_size_count{kind=\"text\"} 1", "lookalike_index_vectors ",
        "lookalike_catalog_products 30"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  }
}

TEST_F(ServeE2eTest, SigtermFinishesInFlightRequestsAndExitsCleanly) {
  start();
  auto photo = query_photo(0);
  std::vector<std::thread> threads;
  std::atomic<int> answered{0};
  std::atomic<int> bad{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      httplib::Client client(server_->url());
      client.set_read_timeout(30, 0);
      httplib::MultipartFormDataItems items{{"file", photo, "q.jpg", "image/jpeg"}};
      auto response = client.Post("/api/v1/search/by-image", items);
      if (!response) return;  // refused: the server had stopped accepting
      ++answered;
      if (response->status != 200) ++bad;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(server_->stop(), 0) << server_->log();
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(bad, 0);
  EXPECT_NE(server_->log().find("\"event\":\"stopped\""), std::string::npos);
  // The index was flushed: a fresh process sees every vector without a rebuild.
  auto stats = run_command({lookalike_binary().string(), "stats", "--data-dir", data_dir()});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_EQ(json::parse(stats.out)["vectors"], json::parse(stats.out)["images"]);
}

TEST_F(ServeE2eTest, BadModelOrTakenPortFailsWithAClearError) {
  auto bad = run_command({lookalike_binary().string(), "serve", "--port", "0", "--data-dir",
                          data_dir(), "--model", (dir_ / "no-model").string()},
                         std::chrono::seconds(30));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("\"error\""), std::string::npos) << bad.err;
  start();
  auto taken =
      run_command({lookalike_binary().string(), "serve", "--port", std::to_string(server_->port()),
                   "--data-dir", data_dir(), "--model", tiny_model().string()},
                  std::chrono::seconds(30));
  EXPECT_EQ(taken.exit_code, 2);
  EXPECT_NE(taken.err.find("cannot listen"), std::string::npos) << taken.err;
}

}  // namespace
}  // namespace lookalike::testing
