#include "core/result.h"

#include <gtest/gtest.h>

#include "core/file_util.h"
#include "core/mapped_file.h"
#include "core/sha256.h"
#include "test_support.h"

namespace lookalike {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return make_error(ErrorCode::kOutOfRange, "must be positive");
  return v;
}

TEST(Result, CarriesValueOrError) {
  auto good = parse_positive(3);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(bad.error().with_context("x").to_string(), "out_of_range: x: must be positive");
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(Sha256::of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256::of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(FileUtil, AtomicWriteAndJson) {
  testing::TempDir dir;
  ASSERT_TRUE(write_file_atomic(dir / "a.json", R"({"x": 1})").ok());
  auto json = read_json_file(dir / "a.json");
  ASSERT_TRUE(json.ok());
  EXPECT_EQ((*json)["x"], 1);
  ASSERT_TRUE(write_file_atomic(dir / "b.json", "{broken").ok());
  auto broken = read_json_file(dir / "b.json");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().code, ErrorCode::kCorruptData);
  EXPECT_NE(broken.error().message.find("b.json"), std::string::npos);
  EXPECT_EQ(read_json_file(dir / "missing.json").error().code, ErrorCode::kNotFound);
}

TEST(MappedFile, MapsBytesAndReportsMissing) {
  testing::TempDir dir;
  testing::write_bytes(dir / "f.bin", "hello");
  auto file = MappedFile::open(dir / "f.bin");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(file->data()), file->size()), "hello");
  EXPECT_EQ(MappedFile::open(dir / "nope").error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace lookalike
