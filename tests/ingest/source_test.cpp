// Ingestion sources: the directory layout, CSV and JSON Lines manifests, prices, stored paths.
#include <gtest/gtest.h>

#include <fstream>

#include "ingest/image_store.h"
#include "ingest/source/directory_source.h"
#include "ingest/source/manifest_source.h"
#include "ingest/source/price_parser.h"
#include "ingest/source/source_factory.h"
#include "test_support.h"

namespace lookalike::ingest {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::write_bytes;

struct Collected {
  std::vector<SourceProduct> products;
  std::vector<SourceProblem> problems;
};

Collected scan(ProductSource& source) {
  Collected collected;
  SourceVisitor visitor;
  visitor.on_product = [&](SourceProduct p) {
    collected.products.push_back(std::move(p));
    return true;
  };
  visitor.on_problem = [&](SourceProblem p) { collected.problems.push_back(std::move(p)); };
  EXPECT_TRUE(source.scan(visitor).ok());
  return collected;
}

TEST(PriceParser, ParsesExactCents) {
  EXPECT_EQ(*parse_price_cents("19.99"), 1999);
  EXPECT_EQ(*parse_price_cents("19,9"), 1990);
  EXPECT_EQ(*parse_price_cents(" 1 299 "), 129900);
  EXPECT_EQ(*parse_price_cents("-0.05"), -5);
  EXPECT_EQ(*parse_price_cents("0"), 0);
  EXPECT_FALSE(parse_price_cents("").value().has_value());
  EXPECT_EQ(*parse_price_cents("99999999.99"), 9999999999);
  for (const char* bad : {"12.345", "1e5", "abc", "1.", ".5", "100000000.00", "--1", "1.2.3"}) {
    EXPECT_FALSE(parse_price_cents(bad).ok()) << bad;
  }
}

TEST(DirectorySource, NaturalOrderAndProblems) {
  TempDir dir;
  for (const char* name : {"image_10.jpg", "image_2.PNG", "image_1.webp", "thumb.jpg"}) {
    write_bytes(dir / "42" / name, "x");
  }
  fs::create_directories(dir / "empty");
  write_bytes(dir / "7" / "image_1.jpeg", "x");
  write_bytes(dir / "stray.txt", "x");
  DirectorySource source(dir.path(), "bakai_");
  auto got = scan(source);
  ASSERT_EQ(got.products.size(), 2u);
  EXPECT_EQ(got.products[0].external_id, "bakai_7");
  EXPECT_EQ(got.products[1].external_id, "bakai_42");
  ASSERT_EQ(got.products[1].images.size(), 3u);
  EXPECT_TRUE(got.products[1].images[0].reference.ends_with("/42/image_1.webp"));
  EXPECT_TRUE(got.products[1].images[1].reference.ends_with("/42/image_2.PNG"));
  EXPECT_TRUE(got.products[1].images[2].reference.ends_with("/42/image_10.jpg"));
  EXPECT_EQ(got.products[1].metadata["original_id"], "42");
  EXPECT_EQ(got.problems.size(), 3u);  // thumb.jpg, empty/, stray.txt
}

TEST(DirectorySource, MissingRootIsAnError) {
  DirectorySource source("/nonexistent/dir", "");
  SourceVisitor visitor{[](SourceProduct) { return true; }, [](SourceProblem) {}};
  EXPECT_EQ(source.scan(visitor).error().code, ErrorCode::kNotFound);
}

TEST(ManifestSource, CsvQuotingExtrasAndBadRows) {
  TempDir dir;
  {
    std::ofstream csv(dir / "m.csv", std::ios::binary);
    csv << "\xEF\xBB\xBF"
        << "external_id,title,description,category,price,currency,images,colour\r\n";
    csv << "a1,\"Bag, \"\"red\"\"\",\"two\nlines\",bags,19.99,EUR,img/a.jpg; https://x.test/b.jpg "
           ",red\r\n";
    csv << "a2,No price,,,,,s3://bucket/k.jpg,\r\n";
    csv << "a3,Bad price,,,abc,,x.jpg,\r\n";
    csv << "a4,No images,,,1,,,\r\n";
    csv << "a1,Repeat,,,1,,x.jpg,\r\n";
    csv << "short,row\r\n";
  }
  ManifestSource source(dir / "m.csv", ManifestSource::Format::kCsv, "p_");
  auto got = scan(source);
  ASSERT_EQ(got.products.size(), 2u);
  const auto& a1 = got.products[0];
  EXPECT_EQ(a1.external_id, "p_a1");
  EXPECT_EQ(a1.title, "Bag, \"red\"");
  EXPECT_EQ(a1.description, "two\nlines");
  EXPECT_EQ(a1.price_cents, 1999);
  EXPECT_EQ(a1.currency, "EUR");
  EXPECT_EQ(a1.metadata["colour"], "red");
  ASSERT_EQ(a1.images.size(), 2u);
  EXPECT_EQ(a1.images[0].reference, (dir.path() / "img" / "a.jpg").string());
  EXPECT_EQ(a1.images[1].reference, "https://x.test/b.jpg");
  EXPECT_FALSE(got.products[1].price_cents.has_value());
  EXPECT_EQ(got.products[1].title, "No price");
  ASSERT_EQ(got.problems.size(), 4u);
  EXPECT_NE(got.problems[0].reason.find("price"), std::string::npos);
  EXPECT_NE(got.problems[1].reason.find("no images"), std::string::npos);
  EXPECT_NE(got.problems[2].reason.find("earlier"), std::string::npos);
  EXPECT_NE(got.problems[3].reason.find("fields"), std::string::npos);
}

TEST(ManifestSource, CsvHeaderMustNameIdAndImages) {
  TempDir dir;
  write_bytes(dir / "m.csv", "title,price\nx,1\n");
  ManifestSource source(dir / "m.csv", ManifestSource::Format::kCsv, "");
  SourceVisitor visitor{[](SourceProduct) { return true; }, [](SourceProblem) {}};
  EXPECT_EQ(source.scan(visitor).error().code, ErrorCode::kInvalidArgument);
}

TEST(ManifestSource, JsonLines) {
  TempDir dir;
  write_bytes(dir / "m.jsonl",
              "{\"external_id\": \"j1\", \"price\": 5.5, \"images\": [\"a.png\"], \"metadata\": "
              "{\"k\": 1}, \"brand\": \"acme\"}\n"
              "\n"
              "not json\n"
              "[1, 2]\n"
              "{\"external_id\": 7, \"images\": [\"b.png\"]}\n"
              "{\"external_id\": \"j2\", \"images\": \"a.png;b.png\", \"title\": [1]}\n");
  ManifestSource source(dir / "m.jsonl", ManifestSource::Format::kJsonLines, "");
  auto got = scan(source);
  ASSERT_EQ(got.products.size(), 2u);
  EXPECT_EQ(got.products[0].price_cents, 550);
  EXPECT_EQ(got.products[0].metadata["k"], 1);
  EXPECT_EQ(got.products[0].metadata["brand"], "acme");
  EXPECT_EQ(got.products[1].external_id, "7");  // numbers are accepted as ids
  EXPECT_EQ(got.problems.size(), 3u);           // not json, not an object, title not a string
  EXPECT_EQ(got.problems[0].item, "m.jsonl:3");
}

TEST(SourceFactory, PicksTheSourceKind) {
  TempDir dir;
  write_bytes(dir / "m.csv", "external_id,images\n");
  write_bytes(dir / "m.txt", "");
  EXPECT_TRUE(open_product_source(dir.path().string(), {}).ok());
  EXPECT_TRUE(open_product_source((dir / "m.csv").string(), {}).ok());
  EXPECT_EQ(open_product_source((dir / "m.txt").string(), {}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(open_product_source((dir / "nope").string(), {}).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(open_product_source("s3://bucket/x", {}).error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(open_product_source("s3://", {}).error().code, ErrorCode::kInvalidArgument);
}

TEST(ImageStore, DirectoryNamesAreSafeAndDistinct) {
  EXPECT_EQ(ImageStore::dir_name("bakai_123"), "bakai_123");
  EXPECT_EQ(ImageStore::dir_name("../etc"), "..%2Fetc");
  EXPECT_EQ(ImageStore::dir_name(".."), "%2E..");
  EXPECT_EQ(ImageStore::dir_name("a/b"), "a%2Fb");
  EXPECT_NE(ImageStore::dir_name("a%2Fb"), ImageStore::dir_name("a/b"));
  EXPECT_EQ(ImageStore::dir_name(std::string(300, 'x')).size(), 120u);
  EXPECT_NE(ImageStore::dir_name(std::string(300, 'x')),
            ImageStore::dir_name(std::string(301, 'x')));
  EXPECT_EQ(ImageStore::relative_path("a b", 2, "jpeg"), "a%20b/image_2.jpg");
  EXPECT_EQ(ImageStore::url_for("a%20b/image_2.jpg"), "/images/a%2520b/image_2.jpg");
}

TEST(ImageStore, LinksShareBytesAndReplacingOneKeepsTheOther) {
  TempDir dir;
  ImageStore store(dir.path());
  ASSERT_TRUE(store.write("a/image_1.jpg", "AAA").ok());
  ASSERT_TRUE(store.link("a/image_1.jpg", "b/image_1.jpg").ok());
  EXPECT_EQ(fs::hard_link_count(dir / "b" / "image_1.jpg"), 2u);
  ASSERT_TRUE(store.write("a/image_1.jpg", "NEW").ok());
  EXPECT_EQ(*store.read("b/image_1.jpg"), "AAA");
  ASSERT_TRUE(store.remove("a/image_1.jpg").ok());
  EXPECT_FALSE(fs::exists(dir / "a"));
  EXPECT_EQ(store.file_size("b/image_1.jpg"), 3);
  EXPECT_EQ(store.file_size("a/image_1.jpg"), -1);
}

}  // namespace
}  // namespace lookalike::ingest
