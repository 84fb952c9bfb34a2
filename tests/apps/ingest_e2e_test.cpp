// Black-box tests of `lookalike ingest/search/stats/reindex` on generated catalogues with the tiny
// conformance model: every source kind, re-runs, bad items, kill -9, filters.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "test_catalogue.h"
#include "test_support.h"

namespace lookalike::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path tiny_model() { return conformance_dir() / "models" / "tiny-p32"; }

class IngestE2eTest : public ::testing::Test {
 protected:
  std::vector<std::string> data_args() const {
    return {"--data-dir", (dir_ / "data").string(), "--model", tiny_model().string()};
  }

  CommandResult lookalike(std::vector<std::string> args, bool with_data = true,
                          std::chrono::milliseconds kill_after = std::chrono::milliseconds(0)) {
    std::vector<std::string> argv = {lookalike_binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    if (with_data) {
      auto extra = data_args();
      argv.insert(argv.end(), extra.begin(), extra.end());
    }
    return run_command(argv, kill_after);
  }

  json ingest(const std::string& source, std::vector<std::string> extra = {},
              int expected_exit = 0) {
    std::vector<std::string> args = {"ingest", source, "--report",
                                     (dir_ / "report.jsonl").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    auto result = lookalike(args);
    EXPECT_EQ(result.exit_code, expected_exit) << result.err;
    return result.out.empty() ? json() : json::parse(result.out);
  }

  json stats() {
    auto result = lookalike({"stats"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return json::parse(result.out);
  }

  json search(std::vector<std::string> args) {
    args.insert(args.begin(), "search");
    auto result = lookalike(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return json::parse(result.out);
  }

  std::vector<json> report() {
    std::vector<json> lines;
    std::ifstream in(dir_ / "report.jsonl");
    for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
    return lines;
  }

  // The first result of an image search with a rescaled, recompressed copy of `image`.
  std::string best_match(const fs::path& image) {
    fs::path query = dir_ / "query.jpg";
    write_bytes(query, rescaled_jpeg(image, 0.7, 70));
    auto found = search({"--image", query.string(), "--top-k", "5"});
    if (found["results"].empty()) return "";
    return found["results"][0]["product"]["external_id"];
  }

  static std::int64_t image_count(const TestCatalogue& catalogue) {
    std::int64_t n = 0;
    for (const auto& p : catalogue.products) n += static_cast<std::int64_t>(p.images.size());
    return n;
  }

  TempDir dir_;
};

TEST_F(IngestE2eTest, DirectoryIngestFindsRescaledPhotosAndSkipsUnchangedOnRerun) {
  auto catalogue = make_test_catalogue(dir_ / "photos", 200, 4, 7);
  auto summary = ingest((dir_ / "photos").string(), {"--id-prefix", "shop_"});
  EXPECT_EQ(summary["ingested"], 200);
  EXPECT_EQ(summary["failed"], 0);
  EXPECT_EQ(summary["images_embedded"], image_count(catalogue));

  auto counts = stats();
  EXPECT_EQ(counts["products"], 200);
  EXPECT_EQ(counts["images"], image_count(catalogue));
  EXPECT_EQ(counts["vectors"], image_count(catalogue));
  for (int i = 0; i < 200; i += 23) {
    const auto& product = catalogue.products[static_cast<std::size_t>(i)];
    EXPECT_EQ(best_match(product.images.back()), "shop_" + product.id);
  }
  EXPECT_TRUE(
      fs::exists(dir_ / "data" / "images" / ("shop_" + catalogue.products[0].id) / "image_1.jpg"));
  // `stats --data-dir DIR` as the issue writes it, without a model: the index is read as stored.
  auto plain = lookalike({"stats", "--data-dir", (dir_ / "data").string()}, false);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(json::parse(plain.out)["vectors"], image_count(catalogue));
  EXPECT_EQ(json::parse(plain.out)["index"]["fingerprint"], counts["index"]["fingerprint"]);
  auto fresh = lookalike({"stats", "--data-dir", (dir_ / "empty").string()}, false);
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_EQ(json::parse(fresh.out)["vectors"], 0);

  auto again = ingest((dir_ / "photos").string(), {"--id-prefix", "shop_"});
  EXPECT_EQ(again["skipped"], 200);
  EXPECT_EQ(again["ingested"], 0);
  EXPECT_EQ(again["images_embedded"], 0);
  EXPECT_EQ(stats()["images"], image_count(catalogue));
}

TEST_F(IngestE2eTest, ManifestsCarryFieldsAndFiltersHold) {
  auto catalogue = make_test_catalogue(dir_ / "photos", 120, 3, 11);
  write_csv_manifest(catalogue, dir_ / "catalog.csv");
  auto summary = ingest((dir_ / "catalog.csv").string());
  EXPECT_EQ(summary["ingested"], 120);

  const auto& first = catalogue.products[0];
  auto found = search({"--product", first.id, "--top-k", "50", "--category", "cat3"});
  ASSERT_FALSE(found["results"].empty());
  for (const auto& result : found["results"]) {
    EXPECT_EQ(result["product"]["category"], "cat3");
    EXPECT_NE(result["product"]["external_id"], first.id);  // "more like this" leaves it out
  }
  found = search(
      {"--text", "a red bag", "--top-k", "100", "--min-price", "100", "--max-price", "250.50"});
  ASSERT_FALSE(found["results"].empty());
  for (const auto& result : found["results"]) {
    EXPECT_GE(result["product"]["price"].get<double>(), 100.0);
    EXPECT_LE(result["product"]["price"].get<double>(), 250.50);
  }
  found = search({"--image", first.images[0].string(), "--top-k", "1"});
  ASSERT_EQ(found["results"].size(), 1u);
  auto product = found["results"][0]["product"];
  EXPECT_EQ(product["external_id"], first.id);
  EXPECT_EQ(product["title"], first.title + ", the \"best\"");
  EXPECT_EQ(product["currency"], "USD");
  EXPECT_EQ(product["product_metadata"]["colour"], "blue");
  EXPECT_DOUBLE_EQ(product["price"].get<double>(), static_cast<double>(first.price_cents) / 100);
  EXPECT_GT(found["results"][0]["score"].get<double>(), 0.99);
  EXPECT_EQ(found["results"][0]["image_url"], "/images/" + first.id + "/image_1.jpg");
}

TEST_F(IngestE2eTest, JsonLinesManifestMatchesDirectoryIngest) {
  auto catalogue = make_test_catalogue(dir_ / "photos", 60, 3, 13);
  write_jsonl_manifest(catalogue, dir_ / "catalog.jsonl");
  auto summary = ingest((dir_ / "catalog.jsonl").string());
  EXPECT_EQ(summary["ingested"], 60);
  auto counts = stats();
  EXPECT_EQ(counts["images"], image_count(catalogue));
  const auto& product = catalogue.products[5];
  EXPECT_EQ(best_match(product.images[0]), product.id);
}

TEST_F(IngestE2eTest, BadItemsGoToTheReportAndNeverStopTheRun) {
  auto catalogue = make_test_catalogue(dir_ / "photos", 20, 2, 17);
  fs::path photos = dir_ / "photos";
  // A corrupt file, a truncated JPEG, an exact duplicate of another product's photo, a stray file.
  fs::create_directories(photos / "corrupt");
  write_bytes(photos / "corrupt" / "image_1.jpg", "this is not a picture");
  fs::create_directories(photos / "truncated");
  std::string jpeg = read_bytes(catalogue.products[0].images[0]);
  write_bytes(photos / "truncated" / "image_1.jpg", jpeg.substr(0, jpeg.size() / 2));
  fs::create_directories(photos / "twin");
  write_bytes(photos / "twin" / "image_1.jpg", read_bytes(catalogue.products[3].images[0]));
  write_bytes(photos / "notes.txt", "not a product");
  // An oversized image with a small limit would fail everything, so use a manifest for it.
  auto summary = ingest(photos.string(), {}, 1);
  EXPECT_EQ(summary["ingested"], 21);  // the 20 plus the twin
  EXPECT_EQ(summary["duplicates"], 1);
  std::map<std::string, std::string> reasons;
  for (const auto& line : report()) reasons[line["item"].get<std::string>()] = line["status"];
  EXPECT_EQ(reasons[(photos / "corrupt" / "image_1.jpg").string()], "failed");
  EXPECT_EQ(reasons[(photos / "truncated" / "image_1.jpg").string()], "failed");
  EXPECT_EQ(reasons[(photos / "twin" / "image_1.jpg").string()], "duplicate");
  EXPECT_EQ(reasons["notes.txt"], "failed");
  auto counts = stats();
  EXPECT_EQ(counts["products"], 21);
  // The duplicate is stored once on disk (a hard link) and embedded once.
  EXPECT_EQ(counts["distinct_images"], image_count(catalogue));
  EXPECT_EQ(fs::hard_link_count(dir_ / "data" / "images" / "twin" / "image_1.jpg"), 2u);

  // Missing files, bad prices and oversized images from a manifest.
  {
    std::ofstream csv(dir_ / "bad.csv");
    csv << "external_id,title,description,category,price,currency,images\n";
    csv << "m1,Missing,,,1.00,USD,photos/nowhere.jpg\n";
    csv << "m2,Bad price,,,12.345,USD," << catalogue.products[1].images[0].string() << "\n";
    csv << "m3,Too big,,,2.00,USD," << catalogue.products[2].images[0].string() << "\n";
    csv << "m4,Short row\n";
  }
  summary = ingest((dir_ / "bad.csv").string(), {"--max-image-mb", "0.001"}, 1);
  EXPECT_EQ(summary["ingested"], 0);
  std::map<std::string, std::string> by_id;
  for (const auto& line : report()) {
    if (line.contains("external_id"))
      by_id[line["external_id"]] += line["reason"].get<std::string>();
    if (line["item"] == "bad.csv:5") by_id["m4"] = line["reason"];
  }
  EXPECT_NE(by_id["m1"].find("not_found"), std::string::npos) << by_id["m1"];
  EXPECT_NE(by_id["m2"].find("price"), std::string::npos) << by_id["m2"];
  EXPECT_NE(by_id["m3"].find("resource_exhausted"), std::string::npos) << by_id["m3"];
  EXPECT_NE(by_id["m4"].find("fields"), std::string::npos) << by_id["m4"];
  EXPECT_EQ(stats()["products"], 21);
}

TEST_F(IngestE2eTest, KillNineTwiceThenRerunGivesExactCounts) {
  auto catalogue = make_test_catalogue(dir_ / "photos", 150, 4, 19);
  std::vector<std::string> args = {
      "ingest", (dir_ / "photos").string(), "--batch", "2", "--concurrency", "2"};
  // How long a whole run takes on this machine (into another data dir), so that the kills land
  // mid-run however fast or slow the machine is.
  std::vector<std::string> timing_args = {lookalike_binary().string(),
                                          "ingest",
                                          (dir_ / "photos").string(),
                                          "--batch",
                                          "2",
                                          "--concurrency",
                                          "2",
                                          "--data-dir",
                                          (dir_ / "timing").string(),
                                          "--model",
                                          tiny_model().string()};
  auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(run_command(timing_args).exit_code, 0);
  auto full = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  for (double fraction : {0.35, 0.65}) {
    auto delay = std::chrono::milliseconds(static_cast<long>(full.count() * fraction));
    auto killed = lookalike(args, true, delay);
    EXPECT_EQ(killed.exit_code, 128 + 9) << "the run finished before it could be killed";
  }
  auto summary = ingest((dir_ / "photos").string());
  EXPECT_EQ(summary["failed"], 0);
  EXPECT_EQ(summary["ingested"].get<int>() + summary["skipped"].get<int>(), 150);
  auto counts = stats();
  EXPECT_EQ(counts["products"], 150);
  EXPECT_EQ(counts["images"], image_count(catalogue));
  EXPECT_EQ(counts["vectors"], image_count(catalogue));
  EXPECT_EQ(counts["distinct_images"], image_count(catalogue));
  const auto& product = catalogue.products[149];
  EXPECT_EQ(best_match(product.images[0]), product.id);
}

TEST_F(IngestE2eTest, CorruptIndexFilesAreRebuiltFromTheCatalogue) {
  auto catalogue = make_test_catalogue(dir_ / "photos", 30, 2, 37);
  ingest((dir_ / "photos").string());
  for (const auto& entry : fs::recursive_directory_iterator(dir_ / "data" / "index")) {
    if (entry.is_regular_file()) write_bytes(entry.path(), "garbage");
  }
  // Without a model nothing can be rebuilt, so nothing is moved: the error is reported.
  auto read_only = lookalike({"stats", "--data-dir", (dir_ / "data").string()}, false);
  EXPECT_EQ(read_only.exit_code, 2);
  EXPECT_NE(read_only.err.find("corrupt_data"), std::string::npos) << read_only.err;
  auto result = lookalike({"stats"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(json::parse(result.out)["vectors"], image_count(catalogue));
  EXPECT_NE(result.err.find("rebuilding the index from the catalogue"), std::string::npos);
  const auto& product = catalogue.products[4];
  EXPECT_EQ(best_match(product.images[0]), product.id);
}

TEST_F(IngestE2eTest, ReindexRebuildsTheIndexFromTheCatalogue) {
  auto catalogue = make_test_catalogue(dir_ / "photos", 40, 2, 23);
  ingest((dir_ / "photos").string());
  fs::remove_all(dir_ / "data" / "index");
  auto result = lookalike({"reindex"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(json::parse(result.out)["vectors"], image_count(catalogue));
  result = lookalike({"reindex", "--re-embed"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(json::parse(result.out)["re_embedded"], 0);  // same model: nothing missing
  const auto& product = catalogue.products[7];
  EXPECT_EQ(best_match(product.images[1 % product.images.size()]), product.id);
}

}  // namespace
}  // namespace lookalike::testing
