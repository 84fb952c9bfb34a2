// The Qdrant backend against QdrantStandIn (tests/qdrant_stand_in.h): the VectorIndex contract,
// then what is Qdrant-specific: the collection and payload indexes it creates, a collection of
// another size, the payload written, batching, filters as Qdrant JSON, the API key, retries,
// a server that is down and vectors of another model.
#include "index/qdrant/qdrant_index.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <nlohmann/json.hpp>

#include "index/qdrant/qdrant_filter.h"
#include "qdrant_stand_in.h"
#include "vector_index_contract.h"

namespace lookalike::index::contract {
namespace {

using lookalike::testing::QdrantStandIn;
using nlohmann::json;

constexpr char kPointsEndpoint[] = "PUT /collections/{collection_name}/points";

QdrantTuning fast_tuning() {
  QdrantTuning tuning;
  tuning.retry.max_attempts = 3;
  tuning.retry.initial_backoff = std::chrono::milliseconds(1);
  tuning.retry.max_backoff = std::chrono::milliseconds(5);
  tuning.timeout_s = 10;
  return tuning;
}

IndexOptions options_for(const QdrantStandIn& qdrant, int dimension,
                         const std::string& collection = "product_embeddings") {
  IndexOptions options;
  options.backend = "qdrant";
  options.dimension = dimension;
  options.fingerprint = "model-a";
  options.qdrant_url = qdrant.url();
  options.collection = collection;
  return options;
}

// One stand-in for the contract suite; each test gets a collection of its own.
QdrantStandIn& shared_stand_in() {
  static QdrantStandIn qdrant;
  return qdrant;
}

INSTANTIATE_TEST_SUITE_P(Qdrant, VectorIndexContractTest,
                         ::testing::Values(IndexBackend{
                             "qdrant",
                             [](int dimension) -> std::unique_ptr<VectorIndex> {
                               static std::atomic<int> serial{0};
                               auto options = options_for(shared_stand_in(), dimension,
                                                          "contract_" + std::to_string(++serial));
                               auto index = open_qdrant_index(options, fast_tuning());
                               if (!index.ok()) {
                                 ADD_FAILURE() << index.error().to_string();
                                 return nullptr;
                               }
                               return std::move(*index);
                             }}),
                         backend_name);

class QdrantIndexTest : public ::testing::Test {
 protected:
  std::unique_ptr<VectorIndex> open(const IndexOptions& options) {
    auto index = open_qdrant_index(options, fast_tuning());
    EXPECT_TRUE(index.ok()) << index.error().to_string();
    return index.ok() ? std::move(*index) : nullptr;
  }
  std::unique_ptr<VectorIndex> open(int dimension = 4) {
    return open(options_for(qdrant_, dimension));
  }

  // A direct REST call to the stand-in (what another client would see).
  json rest(const std::string& method, const std::string& path, const json& body = nullptr) {
    HttpRequest request;
    request.method = method;
    request.url = qdrant_.url() + path;
    if (!body.is_null()) {
      request.body = body.dump();
      request.headers.emplace_back("Content-Type", "application/json");
    }
    auto response = client_.request(request);
    EXPECT_TRUE(response.ok());
    return response.ok() ? json::parse(response->body, nullptr, false) : json();
  }

  static Point point(std::int64_t id, std::vector<float> vector, std::int64_t product,
                     const std::string& category = "", std::optional<std::int64_t> price = {}) {
    Point p;
    p.id = id;
    p.vector = std::move(vector);
    p.payload.product_id = product;
    p.payload.external_id = "ext-" + std::to_string(id);
    p.payload.category = category;
    p.payload.price_cents = price;
    p.payload.currency = price ? "EUR" : "";
    return p;
  }

  static std::vector<std::int64_t> ids(const Result<std::vector<SearchHit>>& hits) {
    EXPECT_TRUE(hits.ok()) << hits.error().to_string();
    std::vector<std::int64_t> out;
    if (hits.ok()) {
      for (const auto& hit : *hits) out.push_back(hit.id);
    }
    return out;
  }

  QdrantStandIn qdrant_;
  HttpClient client_{HttpOptions{}};
};

TEST_F(QdrantIndexTest, OpenCreatesACosineCollectionWithPayloadIndexes) {
  auto index = open(8);
  ASSERT_NE(index, nullptr);
  json info = rest("GET", "/collections/product_embeddings")["result"];
  EXPECT_EQ(info["config"]["params"]["vectors"], (json{{"size", 8}, {"distance", "Cosine"}}));
  const json& schema = info["payload_schema"];
  EXPECT_EQ(schema["category"]["data_type"], "keyword");
  EXPECT_EQ(schema["price_cents"]["data_type"], "integer");
  EXPECT_EQ(schema["product_id"]["data_type"], "integer");
  EXPECT_EQ(qdrant_.request_count("PUT /collections/{collection_name}"), 1);
  EXPECT_EQ(qdrant_.request_count("PUT /collections/{collection_name}/index"), 3);
  EXPECT_EQ(index->dimension(), 8);
  EXPECT_EQ(index->fingerprint(), "model-a");

  qdrant_.clear_requests();
  auto again = open(8);  // an existing collection is used as it is
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(qdrant_.request_count("PUT /collections/{collection_name}"), 0);
  EXPECT_EQ(qdrant_.request_count("PUT /collections/{collection_name}/index"), 0);
}

TEST_F(QdrantIndexTest, ACollectionOfAnotherSizeOrDistanceIsAFailedPrecondition) {
  rest("PUT", "/collections/product_embeddings",
       {{"vectors", {{"size", 768}, {"distance", "Cosine"}}}});
  auto index = open_qdrant_index(options_for(qdrant_, 512), fast_tuning());
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(index.error().message.find("768-dimensional"), std::string::npos)
      << index.error().message;
  EXPECT_NE(index.error().message.find("512"), std::string::npos);
  EXPECT_NE(index.error().message.find("product_embeddings"), std::string::npos);

  rest("PUT", "/collections/dots", {{"vectors", {{"size", 4}, {"distance", "Dot"}}}});
  auto dots = open_qdrant_index(options_for(qdrant_, 4, "dots"), fast_tuning());
  ASSERT_FALSE(dots.ok());
  EXPECT_EQ(dots.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(dots.error().message.find("Dot"), std::string::npos);
}

TEST_F(QdrantIndexTest, InvalidOptionsAreRejectedBeforeAnyRequest) {
  auto options = options_for(qdrant_, 4);
  options.collection = "a/b";
  EXPECT_EQ(open_qdrant_index(options).error().code, ErrorCode::kInvalidArgument);
  options = options_for(qdrant_, 4);
  options.qdrant_url.clear();
  EXPECT_EQ(open_qdrant_index(options).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(qdrant_.total_requests(), 0);
}

TEST_F(QdrantIndexTest, PointsCarryTheDocumentedPayload) {
  auto index = open();
  ASSERT_NE(index, nullptr);
  std::vector<Point> points = {point(7, {1, 0, 0, 0}, 70, "shoes", 1234),
                               point(8, {0, 1, 0, 0}, 80)};
  ASSERT_TRUE(index->upsert(points).ok());
  json seven = rest("GET", "/collections/product_embeddings/points/7")["result"]["payload"];
  EXPECT_EQ(seven, (json{{"external_id", "ext-7"},
                         {"original_id", "ext-7"},
                         {"product_id", 70},
                         {"category", "shoes"},
                         {"price", 12.34},
                         {"price_cents", 1234},
                         {"currency", "EUR"},
                         {"fingerprint", "model-a"}}));
  json eight = rest("GET", "/collections/product_embeddings/points/8")["result"]["payload"];
  EXPECT_FALSE(eight.contains("price_cents"));
  EXPECT_FALSE(eight.contains("category"));
  EXPECT_EQ(qdrant_.requests().back().path, "/collections/product_embeddings/points/8");
}

TEST_F(QdrantIndexTest, UpsertsAndDeletesGoInBatchesWithWait) {
  auto index = open();
  ASSERT_NE(index, nullptr);
  std::vector<Point> points;
  for (int i = 1; i <= 600; ++i) points.push_back(point(i, {1, float(i), 0, 0}, i));
  qdrant_.clear_requests();
  ASSERT_TRUE(index->upsert(points).ok());
  EXPECT_EQ(qdrant_.request_count(kPointsEndpoint), 3);  // 256 + 256 + 88
  for (const auto& request : qdrant_.requests()) {
    EXPECT_EQ(request.path, "/collections/product_embeddings/points?wait=true");
  }
  std::vector<std::int64_t> all;
  for (int i = 1; i <= 600; ++i) all.push_back(i);
  ASSERT_TRUE(index->remove(all).ok());
  EXPECT_EQ(qdrant_.request_count("POST /collections/{collection_name}/points/delete"), 3);
  EXPECT_EQ(index->info()->points, 0);
}

TEST_F(QdrantIndexTest, FiltersBecomeQdrantMustConditionsOnPriceCents) {
  SearchFilter filter;
  EXPECT_TRUE(qdrant_filter(filter).is_null());
  filter.category = "bags";
  filter.min_price_cents = 100;
  filter.max_price_cents = 900;
  EXPECT_EQ(qdrant_filter(filter), json::parse(R"({"must": [
      {"key": "category", "match": {"value": "bags"}},
      {"key": "price_cents", "range": {"gte": 100, "lte": 900}}]})"));
}

TEST_F(QdrantIndexTest, SearchSendsLimitThresholdFilterAndOnlyProductIdPayload) {
  auto index = open();
  ASSERT_NE(index, nullptr);
  ASSERT_TRUE(index
                  ->upsert(std::vector<Point>{point(1, {1, 0, 0, 0}, 10, "bags", 500),
                                              point(2, {1, 1, 0, 0}, 20, "bags", 1500),
                                              point(3, {0, 1, 0, 0}, 30, "shoes", 500)})
                  .ok());
  std::vector<float> query = {1, 0, 0, 0};
  SearchQuery q;
  q.vector = query;
  q.limit = 5;
  q.score_threshold = 0.5f;
  q.filter.category = "bags";
  q.filter.max_price_cents = 1000;
  q.exact = true;
  auto hits = index->search(q);
  EXPECT_EQ(ids(hits), std::vector<std::int64_t>{1});
  EXPECT_EQ((*hits)[0].product_id, 10);
  json sent = json::parse(qdrant_.requests().back().body);
  EXPECT_EQ(sent["limit"], 5);
  EXPECT_EQ(sent["with_payload"], json::array({"product_id"}));
  EXPECT_EQ(sent["with_vector"], false);
  EXPECT_NEAR(sent["score_threshold"].get<double>(), 0.5, 1e-9);
  EXPECT_EQ(sent["params"]["exact"], true);
  EXPECT_EQ(sent["filter"], qdrant_filter(q.filter));
  q.limit = 0;
  EXPECT_TRUE(index->search(q)->empty());
}

TEST_F(QdrantIndexTest, GroupByProductUsesSearchGroups) {
  auto index = open();
  ASSERT_NE(index, nullptr);
  ASSERT_TRUE(
      index
          ->upsert(std::vector<Point>{point(1, {1, 0, 0, 0}, 10), point(2, {0.9f, 0.1f, 0, 0}, 10),
                                      point(3, {0.8f, 0.3f, 0, 0}, 20), point(4, {0, 1, 0, 0}, 30)})
          .ok());
  std::vector<float> query = {1, 0, 0, 0};
  SearchQuery q;
  q.vector = query;
  q.limit = 2;
  q.group_by_product = true;
  auto hits = index->search(q);
  EXPECT_EQ(ids(hits), (std::vector<std::int64_t>{1, 3}));
  EXPECT_EQ(qdrant_.request_count("POST /collections/{collection_name}/points/search/groups"), 1);
  json sent = json::parse(qdrant_.requests().back().body);
  EXPECT_EQ(sent["group_by"], "product_id");
  EXPECT_EQ(sent["group_size"], 1);
  EXPECT_EQ(sent["limit"], 2);
}

TEST_F(QdrantIndexTest, ClearRecreatesTheCollectionWithItsIndexes) {
  auto index = open();
  ASSERT_NE(index, nullptr);
  ASSERT_TRUE(index->upsert(std::vector<Point>{point(1, {1, 0, 0, 0}, 10)}).ok());
  ASSERT_TRUE(index->clear().ok());
  EXPECT_EQ(index->info()->points, 0);
  json schema = rest("GET", "/collections/product_embeddings")["result"]["payload_schema"];
  EXPECT_EQ(schema.size(), 3u);
}

TEST_F(QdrantIndexTest, TheApiKeyIsSentAndAWrongOneIsReported) {
  qdrant_.require_api_key("s3cret");
  auto options = options_for(qdrant_, 4);
  options.qdrant_api_key = "s3cret";
  auto index = open(options);
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(qdrant_.requests().front().api_key, "s3cret");

  qdrant_.clear_requests();
  options.qdrant_api_key = "wrong";
  auto refused = open_qdrant_index(options, fast_tuning());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.error().message.find("401"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("Invalid API key"), std::string::npos);
  EXPECT_EQ(qdrant_.total_requests(), 1);  // not retried
}

TEST_F(QdrantIndexTest, UnavailableRepliesAreRetried) {
  auto index = open();
  ASSERT_NE(index, nullptr);
  qdrant_.clear_requests();
  qdrant_.fail_next(2, 503);
  ASSERT_TRUE(index->upsert(std::vector<Point>{point(1, {1, 0, 0, 0}, 10)}).ok());
  EXPECT_EQ(qdrant_.request_count(kPointsEndpoint), 3);

  qdrant_.fail_next(5, 503);
  auto status = index->upsert(std::vector<Point>{point(2, {1, 0, 0, 0}, 10)});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kNetwork);
  EXPECT_NE(status.error().message.find("503"), std::string::npos) << status.error().message;
  EXPECT_NE(status.error().message.find("Shard temporarily unavailable"), std::string::npos);
  qdrant_.fail_next(0);
}

TEST_F(QdrantIndexTest, AServerThatIsDownIsANetworkErrorNamingTheUrl) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);  // a port nobody listens on
  auto options = options_for(qdrant_, 4);
  options.qdrant_url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  auto index = open_qdrant_index(options, fast_tuning());
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.error().code, ErrorCode::kNetwork);
  EXPECT_NE(index.error().message.find(options.qdrant_url), std::string::npos)
      << index.error().message;

  auto opened = open();  // and a server that goes away later
  ASSERT_NE(opened, nullptr);
  qdrant_.stop();
  std::vector<float> query = {1, 0, 0, 0};
  SearchQuery q;
  q.vector = query;
  auto hits = opened->search(q);
  ASSERT_FALSE(hits.ok());
  EXPECT_EQ(hits.error().code, ErrorCode::kNetwork);
  EXPECT_NE(hits.error().message.find(qdrant_.url()), std::string::npos);
}

TEST_F(QdrantIndexTest, VectorsOfAnotherModelAreReportedUntilCleared) {
  auto first = open();
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->upsert(std::vector<Point>{point(1, {1, 0, 0, 0}, 10)}).ok());
  EXPECT_TRUE(first->info()->note.empty());

  auto options = options_for(qdrant_, 4);
  options.fingerprint = "model-b";
  auto second = open(options);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->fingerprint(), "model-a");
  auto info = second->info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->fingerprint, "model-a");
  EXPECT_NE(info->note.find("model-a"), std::string::npos) << info->note;
  ASSERT_TRUE(second->clear().ok());
  EXPECT_EQ(second->fingerprint(), "model-b");
  EXPECT_TRUE(second->info()->note.empty());
}

TEST_F(QdrantIndexTest, InvalidPointsAreRejectedWithoutARequest) {
  auto index = open();
  ASSERT_NE(index, nullptr);
  qdrant_.clear_requests();
  EXPECT_EQ(index->upsert(std::vector<Point>{point(0, {1, 0, 0, 0}, 1)}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(index->upsert(std::vector<Point>{point(1, {NAN, 0, 0, 0}, 1)}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(qdrant_.total_requests(), 0);
}

TEST_F(QdrantIndexTest, AppliedSeqIsKeptInMemoryOnly) {
  auto index = open();
  ASSERT_NE(index, nullptr);
  ASSERT_TRUE(index->set_applied_seq(17).ok());
  EXPECT_EQ(index->applied_seq(), 17);
  EXPECT_EQ(open()->applied_seq(), 0);
}

TEST_F(QdrantIndexTest, ConcurrentSearchesAndWrites) {
  auto index = open();
  ASSERT_NE(index, nullptr);
  std::vector<Point> points;
  for (int i = 1; i <= 50; ++i) points.push_back(point(i, {1, float(i) / 50, 0, 0}, i));
  ASSERT_TRUE(index->upsert(points).ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<float> query = {1, float(t), 0, 0};
      for (int i = 0; i < 20; ++i) {
        SearchQuery q;
        q.vector = query;
        q.limit = 5;
        auto hits = index->search(q);
        if (!hits.ok() || hits->size() != 5) ++failures;
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 10; ++i) {
      if (!index->upsert(std::span(points).subspan(i, 1)).ok()) ++failures;
    }
  });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace lookalike::index::contract
