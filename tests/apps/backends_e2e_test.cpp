// Black-box ingestion and search through the production back ends: an S3 bucket (the s3rver
// stand-in), PostgreSQL (a real server) and Qdrant (the local stand-in) — and the same answers as
// the embedded SQLite + in-process index.
#include <gtest/gtest.h>

#include <cstdlib>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "postgres_server.h"
#include "qdrant_stand_in.h"
#include "s3_server.h"
#include "test_catalogue.h"
#include "test_support.h"

namespace lookalike::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path tiny_model() { return conformance_dir() / "models" / "tiny-p32"; }

json run_json(std::vector<std::string> args, int expected_exit = 0) {
  args.insert(args.begin(), lookalike_binary().string());
  args.push_back("--model");
  args.push_back(tiny_model().string());
  auto result = run_command(args);
  EXPECT_EQ(result.exit_code, expected_exit) << result.err;
  return result.out.empty() ? json() : json::parse(result.out);
}

std::vector<std::string> ids_of(const json& found) {
  std::vector<std::string> ids;
  for (const auto& result : found["results"]) ids.push_back(result["product"]["external_id"]);
  return ids;
}

TEST(BackendsE2e, IngestFromS3SkipsUnchangedObjectsByETag) {
  TempDir dir;
  S3Server s3;
  ASSERT_TRUE(s3.start());
  ASSERT_TRUE(s3.create_bucket("catalog"));
  auto catalogue = make_test_catalogue(dir / "photos", 40, 3, 29);
  int images = 0;
  for (const auto& product : catalogue.products) {
    for (const auto& image : product.images) {
      ASSERT_TRUE(s3.put_object("catalog", "photos/" + product.id + "/" + image.filename().string(),
                                read_bytes(image)));
      ++images;
    }
  }
  ASSERT_TRUE(s3.put_object("catalog", "photos/broken/image_1.jpg", "not a jpeg"));
  ASSERT_TRUE(s3.put_object("catalog", "photos/readme.txt", "stray"));
  ::setenv("AWS_ACCESS_KEY_ID", S3Server::kAccessKeyId, 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", S3Server::kSecretAccessKey, 1);
  std::vector<std::string> args = {
      "ingest",     "s3://catalog/photos",          "--s3-endpoint", s3.endpoint(),
      "--data-dir", (dir / "data").string(),        "--id-prefix",   "bakai_",
      "--report",   (dir / "report.jsonl").string()};
  auto summary = run_json(args, 1);
  EXPECT_EQ(summary["ingested"], 40);
  EXPECT_EQ(summary["failed"], 2);  // the broken product and the stray key
  EXPECT_EQ(summary["images_embedded"], images);

  auto again = run_json(args, 1);
  EXPECT_EQ(again["skipped"], 40);
  EXPECT_EQ(again["images_embedded"], 0);
  // Only the broken object is downloaded again: the others are known by their ETags.
  EXPECT_EQ(again["bytes_downloaded"], std::string("not a jpeg").size());

  const auto& product = catalogue.products[12];
  write_bytes(dir / "query.jpg", rescaled_jpeg(product.images[0], 0.6, 75));
  auto found = run_json({"search", "--image", (dir / "query.jpg").string(), "--data-dir",
                         (dir / "data").string(), "--top-k", "3"});
  ASSERT_FALSE(found["results"].empty());
  EXPECT_EQ(found["results"][0]["product"]["external_id"], "bakai_" + product.id);
  EXPECT_EQ(found["results"][0]["product"]["product_metadata"]["source"], "s3");
}

TEST(BackendsE2e, PostgresAndQdrantAnswerLikeSqliteAndTheEmbeddedIndex) {
  TempDir dir;
  auto server = PostgresServer::shared();
  ASSERT_TRUE(server.ok()) << server.error().to_string();
  auto database = (*server)->fresh_database();
  ASSERT_TRUE(database.ok()) << database.error().to_string();
  QdrantStandIn qdrant;
  auto catalogue = make_test_catalogue(dir / "photos", 80, 3, 31);
  write_csv_manifest(catalogue, dir / "catalog.csv");

  std::vector<std::string> embedded = {"--data-dir", (dir / "embedded").string()};
  std::vector<std::string> production = {"--data-dir",     (dir / "production").string(),
                                         "--database-url", *database,
                                         "--qdrant-url",   qdrant.url()};
  auto with = [](std::vector<std::string> args, const std::vector<std::string>& stores) {
    args.insert(args.end(), stores.begin(), stores.end());
    return args;
  };
  auto a = run_json(with({"ingest", (dir / "catalog.csv").string()}, embedded));
  auto b = run_json(with({"ingest", (dir / "catalog.csv").string()}, production));
  EXPECT_EQ(a["ingested"], 80);
  EXPECT_EQ(b["ingested"], 80);
  auto stats = run_json(with({"stats"}, production));
  EXPECT_EQ(stats["products"], 80);
  EXPECT_EQ(stats["catalog"]["backend"], "postgresql");
  EXPECT_EQ(stats["index"]["backend"], "qdrant");

  std::vector<std::vector<std::string>> queries = {
      {"--text", "a blue shoe", "--top-k", "10"},
      {"--image", catalogue.products[3].images[0].string(), "--top-k", "5"},
      {"--product", catalogue.products[9].id, "--top-k", "10", "--category", "cat2"},
      {"--text", "lamp", "--top-k", "10", "--min-price", "50", "--max-price", "300"}};
  for (const auto& query : queries) {
    std::vector<std::string> args = {"search"};
    args.insert(args.end(), query.begin(), query.end());
    auto x = run_json(with(args, embedded));
    auto y = run_json(with(args, production));
    EXPECT_EQ(ids_of(x), ids_of(y)) << query[0] << " " << query[1];
    ASSERT_EQ(x["results"].size(), y["results"].size());
    for (std::size_t i = 0; i < x["results"].size(); ++i) {
      EXPECT_NEAR(x["results"][i]["score"].get<double>(), y["results"][i]["score"].get<double>(),
                  1e-5);
      EXPECT_EQ(x["results"][i]["product"]["price"], y["results"][i]["product"]["price"]);
      EXPECT_EQ(x["results"][i]["product"]["title"], y["results"][i]["product"]["title"]);
    }
  }
  // Rebuilding Qdrant from PostgreSQL (the seed's "Reindex Qdrant" task) keeps every vector.
  auto reindexed = run_json(with({"reindex"}, production));
  EXPECT_EQ(reindexed["vectors"], stats["images"]);

  // A collection lost behind our back (a new Qdrant volume) is refilled on the next open.
  httplib::Client client(qdrant.url());
  auto deleted = client.Delete("/collections/product_embeddings");
  ASSERT_TRUE(deleted && deleted->status == 200);
  EXPECT_EQ(run_json(with({"stats"}, production))["vectors"], stats["images"]);

  // Another model (48-d instead of 32-d): the collection refuses it with a clear way out, and a
  // new collection is filled by re-embedding the stored images.
  auto other = conformance_dir() / "models" / "tiny-p16-gelu-f16";
  auto refused = run_command(
      with({lookalike_binary().string(), "search", "--text", "shoe", "--model", other.string()},
           production));
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("collection"), std::string::npos) << refused.err;
  auto second =
      with({lookalike_binary().string(), "reindex", "--re-embed", "--model", other.string()},
           production);
  second.insert(second.end(), {"--qdrant-collection", "products_p16"});
  auto reembedded = run_command(second);
  ASSERT_EQ(reembedded.exit_code, 0) << reembedded.err;
  EXPECT_EQ(json::parse(reembedded.out)["re_embedded"], stats["distinct_images"]);
  EXPECT_EQ(json::parse(reembedded.out)["vectors"], stats["images"]);
}

}  // namespace
}  // namespace lookalike::testing
