// Router (api/router.h): path patterns with {param} and a trailing {path+}, static names taken
// literally, 405 information when only the method differs, HEAD served by GET, and the JSON
// response helpers.
#include "api/router.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace lookalike::api {
namespace {

using Strings = std::vector<std::string>;

void noop(RouteContext&) {}

TEST(RouterTest, IdPlaceholderMatchesOneSegment) {
  Router router;
  router.add("GET", "/api/v1/products/{id}", Access::kSearch, noop);
  auto match = router.match("GET", "/api/v1/products/42");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->name, "/api/v1/products/{id}");
  EXPECT_EQ(match.route->access, Access::kSearch);
  EXPECT_EQ(match.params, Strings{"42"});
  EXPECT_TRUE(match.allowed_methods.empty());

  // {id} is one non-empty segment: neither empty nor spanning a '/'.
  EXPECT_EQ(router.match("GET", "/api/v1/products/").route, nullptr);
  EXPECT_EQ(router.match("GET", "/api/v1/products").route, nullptr);
  EXPECT_EQ(router.match("GET", "/api/v1/products/42/images").route, nullptr);
  // The whole path must match, not a prefix or a suffix.
  EXPECT_EQ(router.match("GET", "/x/api/v1/products/42").route, nullptr);
}

TEST(RouterTest, TrailingPathPlusCapturesTheRest) {
  Router router;
  router.add("GET", "/images/{path+}", Access::kPublic, noop);
  auto match = router.match("GET", "/images/ab/cd/image_1.jpg");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.params, Strings{"ab/cd/image_1.jpg"});

  auto single = router.match("GET", "/images/x.png");
  ASSERT_NE(single.route, nullptr);
  EXPECT_EQ(single.params, Strings{"x.png"});

  // {path+} needs at least one character.
  EXPECT_EQ(router.match("GET", "/images/").route, nullptr);
  EXPECT_EQ(router.match("GET", "/images").route, nullptr);
}

TEST(RouterTest, ParamsAreCapturedInOrder) {
  Router router;
  router.add("DELETE", "/api/v1/products/{id}/images/{position}", Access::kAdmin, noop);
  router.add("GET", "/a/{first}/b/{second}/{rest+}", Access::kPublic, noop);

  auto match = router.match("DELETE", "/api/v1/products/sku-7/images/3");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.params, (Strings{"sku-7", "3"}));

  auto three = router.match("GET", "/a/1/b/2/x/y/z");
  ASSERT_NE(three.route, nullptr);
  EXPECT_EQ(three.params, (Strings{"1", "2", "x/y/z"}));
}

TEST(RouterTest, StaticTextBeforePlaceholdersIsLiteral) {
  Router router;
  router.add("GET", "/v1.0/items/{id}", Access::kPublic, noop);
  router.add("GET", "/a+b/(x)/{id}", Access::kPublic, noop);

  auto match = router.match("GET", "/v1.0/items/7");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.params, Strings{"7"});
  EXPECT_EQ(router.match("GET", "/v1X0/items/7").route, nullptr);

  auto literal = router.match("GET", "/a+b/(x)/9");
  ASSERT_NE(literal.route, nullptr);
  EXPECT_EQ(literal.params, Strings{"9"});
  EXPECT_EQ(router.match("GET", "/aab/x/9").route, nullptr);
}

TEST(RouterTest, ExactStaticNamesAreLiteral) {
  Router router;
  router.add("GET", "/app.js", Access::kPublic, noop);
  router.add("GET", "/docs/swagger-ui.css", Access::kPublic, noop);
  router.add("GET", "/a+b", Access::kPublic, noop);
  router.add("GET", "/paren(s)", Access::kPublic, noop);

  auto app = router.match("GET", "/app.js");
  ASSERT_NE(app.route, nullptr);
  EXPECT_EQ(app.route->name, "/app.js");
  EXPECT_TRUE(app.params.empty());

  EXPECT_EQ(router.match("GET", "/appXjs").route, nullptr);
  EXPECT_TRUE(router.match("POST", "/appXjs").allowed_methods.empty());
  EXPECT_EQ(router.match("GET", "/docs/swagger-uiXcss").route, nullptr);

  auto plus = router.match("GET", "/a+b");
  ASSERT_NE(plus.route, nullptr);
  EXPECT_EQ(plus.route->name, "/a+b");
  EXPECT_EQ(router.match("GET", "/aab").route, nullptr);

  auto paren = router.match("GET", "/paren(s)");
  ASSERT_NE(paren.route, nullptr);
  EXPECT_EQ(router.match("GET", "/parens").route, nullptr);
}

TEST(RouterTest, StaticTextAfterTheLastPlaceholderIsLiteral) {
  Router router;
  router.add("GET", "/files/{id}.json", Access::kPublic, noop);
  auto match = router.match("GET", "/files/1.json");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.params, Strings{"1"});
  EXPECT_EQ(router.match("GET", "/files/1Xjson").route, nullptr);
}

TEST(RouterTest, MethodMismatchListsAllowedMethods) {
  Router router;
  router.add("GET", "/api/v1/products", Access::kSearch, noop);
  router.add("POST", "/api/v1/products", Access::kAdmin, noop);
  router.add("GET", "/api/v1/products/{id}", Access::kSearch, noop);
  router.add("PUT", "/api/v1/products/{id}", Access::kAdmin, noop);
  router.add("PATCH", "/api/v1/products/{id}", Access::kAdmin, noop);
  router.add("DELETE", "/api/v1/products/{id}", Access::kAdmin, noop);

  auto collection = router.match("DELETE", "/api/v1/products");
  EXPECT_EQ(collection.route, nullptr);
  EXPECT_EQ(collection.allowed_methods, (Strings{"GET", "POST"}));
  EXPECT_TRUE(collection.params.empty());

  auto item = router.match("POST", "/api/v1/products/5");
  EXPECT_EQ(item.route, nullptr);
  EXPECT_EQ(item.allowed_methods, (Strings{"GET", "PUT", "PATCH", "DELETE"}));

  // The method is compared exactly.
  EXPECT_EQ(router.match("get", "/api/v1/products").route, nullptr);

  auto post = router.match("POST", "/api/v1/products");
  ASSERT_NE(post.route, nullptr);
  EXPECT_EQ(post.route->method, "POST");
  EXPECT_EQ(post.route->access, Access::kAdmin);
}

TEST(RouterTest, HeadIsAnsweredByTheGetRoute) {
  Router router;
  router.add("POST", "/api/v1/webhooks", Access::kAdmin, noop);
  router.add("GET", "/api/v1/webhooks", Access::kAdmin, noop);
  router.add("GET", "/api/v1/health", Access::kPublic, noop, false);

  auto match = router.match("HEAD", "/api/v1/webhooks");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->method, "GET");
  EXPECT_EQ(match.route->name, "/api/v1/webhooks");

  auto health = router.match("HEAD", "/api/v1/health");
  ASSERT_NE(health.route, nullptr);
  EXPECT_FALSE(health.route->needs_services);

  // A path with no GET route: HEAD is a method mismatch.
  Router post_only;
  post_only.add("POST", "/api/v1/search/by-text", Access::kSearch, noop);
  auto head = post_only.match("HEAD", "/api/v1/search/by-text");
  EXPECT_EQ(head.route, nullptr);
  EXPECT_EQ(head.allowed_methods, Strings{"POST"});
}

TEST(RouterTest, NoMatchGivesNullRouteAndNoAllowedMethods) {
  Router router;
  router.add("GET", "/api/v1/products/{id}", Access::kSearch, noop);
  router.add("GET", "/images/{path+}", Access::kPublic, noop);
  for (const char* path : {"/", "", "/api/v1/nothing", "/api/v1/products/1/2", "/imagesx/a"}) {
    auto match = router.match("GET", path);
    EXPECT_EQ(match.route, nullptr) << path;
    EXPECT_TRUE(match.allowed_methods.empty()) << path;
    EXPECT_TRUE(match.params.empty()) << path;
  }
  Router empty;
  auto match = empty.match("GET", "/");
  EXPECT_EQ(match.route, nullptr);
  EXPECT_TRUE(match.allowed_methods.empty());
}

TEST(RouterTest, RoutesKeepTheirSettingsAndHandlers) {
  Router router;
  int calls = 0;
  router.add(
      "GET", "/metrics", Access::kPublic, [&calls](RouteContext&) { ++calls; }, false);
  ASSERT_EQ(router.routes().size(), 1u);
  const Route& route = router.routes().front();
  EXPECT_EQ(route.method, "GET");
  EXPECT_EQ(route.name, "/metrics");
  EXPECT_EQ(route.access, Access::kPublic);
  EXPECT_FALSE(route.needs_services);

  auto match = router.match("GET", "/metrics");
  ASSERT_EQ(match.route, &route);
  httplib::Request request;
  httplib::Response response;
  ApiConfig config;
  RouteContext ctx{request, response, match.params, nullptr, nullptr, config, "ip:127.0.0.1"};
  match.route->handler(ctx);
  EXPECT_EQ(calls, 1);
}

TEST(RouterTest, SendJsonSetsStatusBodyAndContentType) {
  httplib::Response response;
  nlohmann::ordered_json body;
  body["zeta"] = 1;
  body["alpha"] = "two";
  send_json(response, 201, body);
  EXPECT_EQ(response.status, 201);
  // ordered_json keeps the insertion order.
  EXPECT_EQ(response.body, R"({"zeta":1,"alpha":"two"})");
  EXPECT_EQ(response.get_header_value("Content-Type"), "application/json; charset=utf-8");
}

TEST(RouterTest, SendJsonReplacesInvalidUtf8InsteadOfThrowing) {
  httplib::Response response;
  nlohmann::ordered_json body;
  body["title"] = std::string("bad \xff byte");
  EXPECT_NO_THROW(send_json(response, 200, body));
  EXPECT_EQ(response.status, 200);
  auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << response.body;
  EXPECT_EQ(parsed["title"], "bad \xEF\xBF\xBD byte");
}

TEST(RouterTest, SendUnorderedJsonSetsStatusBodyAndContentType) {
  httplib::Response response;
  nlohmann::json body = {{"items", nlohmann::json::array({1, 2})}, {"total", 2}};
  send_unordered_json(response, 200, body);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(nlohmann::json::parse(response.body), body);
  EXPECT_EQ(response.get_header_value("Content-Type"), "application/json; charset=utf-8");
}

TEST(RouterTest, SendErrorWritesTheErrorBody) {
  httplib::Response response;
  send_error(response, make_http_error(404, "not_found", "no such product"));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, R"({"error":{"code":"not_found","message":"no such product"}})");
  EXPECT_EQ(response.get_header_value("Content-Type"), "application/json; charset=utf-8");
}

TEST(RouterTest, SendNoContentClearsTheBody) {
  httplib::Response response;
  response.body = "left over";
  send_no_content(response);
  EXPECT_EQ(response.status, 204);
  EXPECT_TRUE(response.body.empty());
}

}  // namespace
}  // namespace lookalike::api
