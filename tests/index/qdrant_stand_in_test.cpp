// The Qdrant stand-in answers as Qdrant's REST API documents (request/response shapes, status
// codes, error bodies), so that tests of the Qdrant backend against it mean something.
#include "qdrant_stand_in.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/http_client.h"

namespace lookalike::testing {
namespace {

using nlohmann::json;

struct Reply {
  long status = 0;
  json body;
  std::string text;
};

class QdrantStandInTest : public ::testing::Test {
 protected:
  Reply call(const std::string& method, const std::string& path, const std::string& body = "",
             const std::string& api_key = "") {
    HttpRequest request;
    request.method = method;
    request.url = qdrant_.url() + path;
    request.body = body;
    if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
    if (!api_key.empty()) request.headers.emplace_back("api-key", api_key);
    auto response = client_.request(request);
    EXPECT_TRUE(response.ok()) << response.error().to_string();
    Reply reply;
    reply.status = response->status;
    reply.text = response->body;
    reply.body = json::parse(response->body, nullptr, false);
    return reply;
  }
  Reply call(const std::string& method, const std::string& path, const json& body) {
    return call(method, path, body.dump());
  }

  void create(const std::string& name, int size, const std::string& distance = "Cosine") {
    auto reply = call("PUT", "/collections/" + name,
                      json{{"vectors", {{"size", size}, {"distance", distance}}}});
    ASSERT_EQ(reply.status, 200) << reply.text;
  }

  void upsert(const std::string& name, const json& points) {
    auto reply =
        call("PUT", "/collections/" + name + "/points?wait=true", json{{"points", points}});
    ASSERT_EQ(reply.status, 200) << reply.text;
  }

  static std::string error_of(const Reply& reply) { return reply.body["status"]["error"]; }

  QdrantStandIn qdrant_;
  HttpClient client_{HttpOptions{}};
};

TEST_F(QdrantStandInTest, CreateCollectionAnswersTrueAndInfoDescribesIt) {
  auto created =
      call("PUT", "/collections/items", json{{"vectors", {{"size", 4}, {"distance", "Dot"}}}});
  ASSERT_EQ(created.status, 200);
  EXPECT_EQ(created.body["result"], true);
  EXPECT_EQ(created.body["status"], "ok");
  EXPECT_TRUE(created.body["time"].is_number());

  auto info = call("GET", "/collections/items");
  ASSERT_EQ(info.status, 200);
  const json& result = info.body["result"];
  EXPECT_EQ(result["status"], "green");
  EXPECT_EQ(result["points_count"], 0);
  EXPECT_EQ(result["config"]["params"]["vectors"], (json{{"size", 4}, {"distance", "Dot"}}));
  EXPECT_TRUE(result["payload_schema"].is_object());

  auto list = call("GET", "/collections");
  EXPECT_EQ(list.body["result"]["collections"], json::parse(R"([{"name":"items"}])"));
}

}  // namespace
}  // namespace lookalike::testing

namespace lookalike::testing {
namespace {

TEST_F(QdrantStandInTest, ExistingCollectionIsAConflict) {
  create("items", 4);
  auto again =
      call("PUT", "/collections/items", json{{"vectors", {{"size", 4}, {"distance", "Cosine"}}}});
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(error_of(again), "Wrong input: Collection `items` already exists!");
}

TEST_F(QdrantStandInTest, MissingCollectionIs404WithErrorBody) {
  auto reply = call("GET", "/collections/nope");
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(error_of(reply), "Not found: Collection `nope` doesn't exist!");
  EXPECT_TRUE(reply.body["time"].is_number());
  EXPECT_FALSE(reply.body.contains("result"));
  EXPECT_EQ(
      call("POST", "/collections/nope/points/search", json{{"vector", {1}}, {"limit", 1}}).status,
      404);
}

TEST_F(QdrantStandInTest, DeleteCollectionAnswersWhetherItExisted) {
  create("items", 4);
  EXPECT_EQ(call("DELETE", "/collections/items").body["result"], true);
  EXPECT_EQ(call("DELETE", "/collections/items").body["result"], false);
  EXPECT_EQ(call("GET", "/collections/items").status, 404);
}

TEST_F(QdrantStandInTest, CreateCollectionValidatesItsBody) {
  EXPECT_EQ(call("PUT", "/collections/a", json{{"vectors", {{"size", 0}, {"distance", "Cosine"}}}})
                .status,
            422);
  auto bad = call("PUT", "/collections/a", json{{"vectors", {{"size", 4}, {"distance", "Cos"}}}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(error_of(bad).find("unknown variant `Cos`"), std::string::npos);
  auto broken = call("PUT", "/collections/a", std::string("{\"vectors\": "));
  EXPECT_EQ(broken.status, 400);
  EXPECT_EQ(error_of(broken).rfind("Format error in JSON body: ", 0), 0u);
}

TEST_F(QdrantStandInTest, UpsertAnswersUpdateResultAndHonoursWait) {
  create("items", 2);
  auto waited = call("PUT", "/collections/items/points?wait=true",
                     json{{"points", {{{"id", 1}, {"vector", {1, 0}}}}}});
  ASSERT_EQ(waited.status, 200);
  EXPECT_EQ(waited.body["result"], (json{{"operation_id", 0}, {"status", "completed"}}));
  auto queued = call("PUT", "/collections/items/points",
                     json::parse(R"({"batch": {"ids": [2, 3], "vectors": [[0, 1], [1, 1]]}})"));
  EXPECT_EQ(queued.body["result"], (json{{"operation_id", 1}, {"status", "acknowledged"}}));
  EXPECT_EQ(call("POST", "/collections/items/points/count", json::object()).body["result"],
            (json{{"count", 3}}));
}

TEST_F(QdrantStandInTest, WrongVectorSizeIsRejectedWithoutApplyingTheBatch) {
  create("items", 4);
  auto reply =
      call("PUT", "/collections/items/points?wait=true",
           json{{"points",
                 {{{"id", 1}, {"vector", {1, 0, 0, 0}}}, {{"id", 2}, {"vector", {1, 0, 0}}}}}});
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(error_of(reply), "Wrong input: Vector dimension error: expected dim: 4, got 3");
  EXPECT_EQ(call("POST", "/collections/items/points/count", json::object()).body["result"]["count"],
            0);
  auto search =
      call("POST", "/collections/items/points/search", json{{"vector", {1, 0}}, {"limit", 3}});
  EXPECT_EQ(search.status, 400);
}

TEST_F(QdrantStandInTest, InvalidPointIdsAreFormatErrors) {
  create("items", 2);
  auto negative = call("PUT", "/collections/items/points",
                       json{{"points", {{{"id", -1}, {"vector", {1, 0}}}}}});
  EXPECT_EQ(negative.status, 400);
  auto uuid = call(
      "PUT", "/collections/items/points",
      json{{"points", {{{"id", "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"}, {"vector", {1, 0}}}}}});
  EXPECT_EQ(uuid.status, 200);
  EXPECT_EQ(call("GET", "/collections/items/points/5c56c793-69f3-4fbf-87e6-c4bf54c28c26").status,
            200);
}

TEST_F(QdrantStandInTest, CosineVectorsAreNormalisedOnInsert) {
  create("items", 4);
  upsert("items", {{{"id", 7}, {"vector", {3, 4, 0, 0}}, {"payload", {{"a", 1}}}}});
  auto point = call("GET", "/collections/items/points/7");
  ASSERT_EQ(point.status, 200);
  std::vector<float> vector = point.body["result"]["vector"];
  EXPECT_NEAR(vector[0], 0.6, 1e-6);
  EXPECT_NEAR(vector[1], 0.8, 1e-6);
  EXPECT_EQ(point.body["result"]["payload"], (json{{"a", 1}}));
  auto hits = call("POST", "/collections/items/points/search",
                   json{{"vector", {6, 8, 0, 0}}, {"limit", 1}});
  EXPECT_NEAR(hits.body["result"][0]["score"].get<double>(), 1.0, 1e-6);
  auto missing = call("GET", "/collections/items/points/99");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(error_of(missing), "Not found: No point with id 99 found");
}

class QdrantStandInSearchTest : public QdrantStandInTest {
 protected:
  void SetUp() override {
    create("items", 2);
    upsert("items", json::parse(R"([
      {"id": 1, "vector": [1, 0], "payload": {"category": "shoes", "price_cents": 1000, "product": 10}},
      {"id": 2, "vector": [0.9, 0.1], "payload": {"category": "shoes", "price_cents": 5000, "product": 10}},
      {"id": 3, "vector": [0.7, 0.7], "payload": {"category": "bags", "price_cents": 2500, "product": 20}},
      {"id": 4, "vector": [0, 1], "payload": {"category": ["bags", "shoes"], "product": 30}},
      {"id": 5, "vector": [-1, 0], "payload": {"category": "hats", "price_cents": 100, "product": "x"}}
    ])"));
  }

  std::vector<int> ids(const json& filter, int limit = 10) {
    json body = {{"vector", {1, 0}}, {"limit", limit}};
    if (!filter.is_null()) body["filter"] = filter;
    auto reply = call("POST", "/collections/items/points/search", body);
    EXPECT_EQ(reply.status, 200) << reply.text;
    std::vector<int> out;
    for (const auto& hit : reply.body["result"]) out.push_back(hit["id"]);
    return out;
  }
};

TEST_F(QdrantStandInSearchTest, ScoredPointsComeBestFirstWithoutPayloadByDefault) {
  auto reply =
      call("POST", "/collections/items/points/search", json{{"vector", {1, 0}}, {"limit", 2}});
  ASSERT_EQ(reply.status, 200);
  const json& first = reply.body["result"][0];
  EXPECT_EQ(first["id"], 1);
  EXPECT_NEAR(first["score"].get<double>(), 1.0, 1e-6);
  EXPECT_TRUE(first["payload"].is_null());
  EXPECT_TRUE(first["vector"].is_null());
  EXPECT_TRUE(first["version"].is_number_unsigned());
  EXPECT_EQ(reply.body["result"].size(), 2u);
  EXPECT_EQ(ids(nullptr), (std::vector<int>{1, 2, 3, 4, 5}));
}

TEST_F(QdrantStandInSearchTest, WithPayloadSelectsFields) {
  auto reply = call(
      "POST", "/collections/items/points/search",
      json{{"vector", {1, 0}}, {"limit", 1}, {"with_payload", {"product"}}, {"with_vector", true}});
  EXPECT_EQ(reply.body["result"][0]["payload"], (json{{"product", 10}}));
  EXPECT_EQ(reply.body["result"][0]["vector"].size(), 2u);
  auto excluded = call("POST", "/collections/items/points/search",
                       json{{"vector", {1, 0}},
                            {"limit", 1},
                            {"with_payload", {{"exclude", {"category", "product"}}}}});
  EXPECT_EQ(excluded.body["result"][0]["payload"], (json{{"price_cents", 1000}}));
}

TEST_F(QdrantStandInSearchTest, ScoreThresholdOffsetAndLimitValidation) {
  auto reply =
      call("POST", "/collections/items/points/search",
           json{{"vector", {1, 0}}, {"limit", 10}, {"score_threshold", 0.7}, {"offset", 1}});
  ASSERT_EQ(reply.status, 200);
  ASSERT_EQ(reply.body["result"].size(), 2u);  // 1, 2, 3 pass the threshold; offset skips 1
  EXPECT_EQ(reply.body["result"][0]["id"], 2);
  auto zero =
      call("POST", "/collections/items/points/search", json{{"vector", {1, 0}}, {"limit", 0}});
  EXPECT_EQ(zero.status, 422);
  auto missing = call("POST", "/collections/items/points/search", json{{"vector", {1, 0}}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(error_of(missing), "Format error in JSON body: missing field `limit`");
}

TEST_F(QdrantStandInSearchTest, MatchValueAnyAndArrays) {
  EXPECT_EQ(ids(json::parse(R"({"must": [{"key": "category", "match": {"value": "shoes"}}]})")),
            (std::vector<int>{1, 2, 4}));
  EXPECT_EQ(ids(json::parse(R"({"must": {"key": "product", "match": {"value": 20}}})")),
            (std::vector<int>{3}));
  EXPECT_EQ(
      ids(json::parse(R"({"must": [{"key": "category", "match": {"any": ["hats", "bags"]}}]})")),
      (std::vector<int>{3, 4, 5}));
  EXPECT_EQ(ids(json::parse(R"({"must": [{"key": "product", "match": {"value": "10"}}]})")),
            (std::vector<int>{}));  // a string never matches an integer
}

TEST_F(QdrantStandInSearchTest, RangesAreInclusiveOrExclusiveAndSkipMissingFields) {
  EXPECT_EQ(ids(json::parse(
                R"({"must": [{"key": "price_cents", "range": {"gte": 1000, "lte": 2500}}]})")),
            (std::vector<int>{1, 3}));
  EXPECT_EQ(
      ids(json::parse(R"({"must": [{"key": "price_cents", "range": {"gt": 1000, "lt": 5000}}]})")),
      (std::vector<int>{3}));
  EXPECT_EQ(ids(json::parse(R"({"must": [{"key": "price_cents", "range": {"lt": 1e9}}]})")),
            (std::vector<int>{1, 2, 3, 5}));
}

TEST_F(QdrantStandInSearchTest, ShouldMustNotHasIdAndNestedFilters) {
  EXPECT_EQ(ids(json::parse(R"({"should": [{"key": "category", "match": {"value": "hats"}},
                                           {"has_id": [2]}]})")),
            (std::vector<int>{2, 5}));
  EXPECT_EQ(ids(json::parse(R"({"must_not": [{"key": "category", "match": {"value": "shoes"}}]})")),
            (std::vector<int>{3, 5}));
  EXPECT_EQ(ids(json::parse(R"({"must": [{"must_not": [{"has_id": [1, 3]}]},
                                         {"is_empty": {"key": "price_cents"}}]})")),
            (std::vector<int>{4}));
}

TEST_F(QdrantStandInSearchTest, UnknownFilterFieldsAreFormatErrors) {
  auto reply = call("POST", "/collections/items/points/search",
                    json{{"vector", {1, 0}}, {"limit", 1}, {"filter", {{"mustt", json::array()}}}});
  EXPECT_EQ(reply.status, 400);
  EXPECT_NE(error_of(reply).find("unknown field `mustt`"), std::string::npos);
}

TEST_F(QdrantStandInSearchTest, GroupsKeepTheBestHitsPerGroupValue) {
  auto reply =
      call("POST", "/collections/items/points/search/groups",
           json{{"vector", {1, 0}}, {"limit", 2}, {"group_by", "product"}, {"group_size", 1}});
  ASSERT_EQ(reply.status, 200) << reply.text;
  const json& groups = reply.body["result"]["groups"];
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0]["id"], 10);
  EXPECT_EQ(groups[0]["hits"].size(), 1u);
  EXPECT_EQ(groups[0]["hits"][0]["id"], 1);
  EXPECT_EQ(groups[1]["id"], 20);
  auto bigger =
      call("POST", "/collections/items/points/search/groups",
           json{{"vector", {1, 0}}, {"limit", 10}, {"group_by", "product"}, {"group_size", 3}});
  const json& all = bigger.body["result"]["groups"];
  ASSERT_EQ(all.size(), 4u);  // 10, 20, 30 and the string "x"
  EXPECT_EQ(all[0]["hits"].size(), 2u);
  EXPECT_EQ(all[3]["id"], "x");
}

TEST_F(QdrantStandInSearchTest, ScrollPagesByIdAndCountFilters) {
  auto first = call("POST", "/collections/items/points/scroll", json{{"limit", 2}});
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.body["result"]["points"].size(), 2u);
  EXPECT_EQ(first.body["result"]["next_page_offset"], 3);
  EXPECT_TRUE(first.body["result"]["points"][0]["payload"].is_object());  // default: all payload
  EXPECT_TRUE(first.body["result"]["points"][0]["vector"].is_null());
  auto last = call("POST", "/collections/items/points/scroll", json{{"limit", 10}, {"offset", 3}});
  EXPECT_EQ(last.body["result"]["points"].size(), 3u);
  EXPECT_TRUE(last.body["result"]["next_page_offset"].is_null());
  auto counted = call(
      "POST", "/collections/items/points/count",
      json::parse(R"({"filter": {"must": [{"key": "category", "match": {"value": "bags"}}]}})"));
  EXPECT_EQ(counted.body["result"]["count"], 2);
}

TEST_F(QdrantStandInSearchTest, DeleteByIdsAndByFilter) {
  auto by_ids =
      call("POST", "/collections/items/points/delete?wait=true", json{{"points", {1, 99}}});
  ASSERT_EQ(by_ids.status, 200);
  EXPECT_EQ(by_ids.body["result"]["status"], "completed");
  auto by_filter = call(
      "POST", "/collections/items/points/delete?wait=true",
      json::parse(R"({"filter": {"must": [{"key": "category", "match": {"value": "bags"}}]}})"));
  ASSERT_EQ(by_filter.status, 200);
  EXPECT_EQ(ids(nullptr), (std::vector<int>{2, 5}));
  EXPECT_EQ(call("POST", "/collections/items/points/delete", json{{"nothing", 1}}).status, 400);
}

TEST_F(QdrantStandInSearchTest, PayloadIndexesShowInTheSchema) {
  auto made = call("PUT", "/collections/items/index?wait=true",
                   json{{"field_name", "price_cents"}, {"field_schema", "integer"}});
  ASSERT_EQ(made.status, 200);
  EXPECT_EQ(made.body["result"]["status"], "completed");
  auto info = call("GET", "/collections/items");
  EXPECT_EQ(info.body["result"]["payload_schema"]["price_cents"],
            (json{{"data_type", "integer"}, {"points", 4}}));
  EXPECT_EQ(
      call("PUT", "/collections/items/index", json{{"field_name", "a"}, {"field_schema", "number"}})
          .status,
      400);
}

TEST_F(QdrantStandInTest, EuclidScoresAreDistancesSmallestFirst) {
  create("e", 2, "Euclid");
  upsert("e", {{{"id", 1}, {"vector", {3, 4}}}, {{"id", 2}, {"vector", {1, 1}}}});
  auto reply = call("POST", "/collections/e/points/search", json{{"vector", {0, 0}}, {"limit", 2}});
  EXPECT_EQ(reply.body["result"][0]["id"], 2);
  EXPECT_NEAR(reply.body["result"][1]["score"].get<double>(), 5.0, 1e-6);
}

TEST_F(QdrantStandInTest, ApiKeyIsRequiredWhenConfigured) {
  qdrant_.require_api_key("secret");
  auto none = call("GET", "/collections");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.text, "Must provide an API key or an Authorization bearer token");
  auto wrong = call("GET", "/collections", "", "nope");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.text, "Invalid API key or JWT");
  EXPECT_EQ(call("GET", "/collections", "", "secret").status, 200);
  HttpRequest bearer;
  bearer.url = qdrant_.url() + "/collections";
  bearer.headers.emplace_back("Authorization", "Bearer secret");
  EXPECT_EQ(client_.request(bearer)->status, 200);
}

TEST_F(QdrantStandInTest, InjectedFailuresAndRequestCounts) {
  qdrant_.fail_next(2);
  auto failed = call("GET", "/collections");
  EXPECT_EQ(failed.status, 503);
  EXPECT_FALSE(error_of(failed).empty());
  EXPECT_EQ(call("GET", "/collections").status, 503);
  EXPECT_EQ(call("GET", "/collections").status, 200);
  EXPECT_EQ(qdrant_.request_count("GET /collections"), 3);
  create("items", 2);
  EXPECT_EQ(qdrant_.request_count("PUT /collections/{collection_name}"), 1);
  EXPECT_EQ(qdrant_.requests().back().path, "/collections/items");
  EXPECT_EQ(qdrant_.total_requests(), 4);
}

}  // namespace
}  // namespace lookalike::testing
