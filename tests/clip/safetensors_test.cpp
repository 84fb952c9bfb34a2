#include "clip/safetensors_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "clip/safetensors_writer.h"
#include "test_support.h"

namespace lookalike::clip {
namespace {

std::string with_header(const std::string& header, const std::string& data) {
  std::uint64_t length = header.size();
  std::string bytes(reinterpret_cast<const char*>(&length), 8);
  return bytes + header + data;
}

class SafetensorsTest : public ::testing::Test {
 protected:
  Result<SafetensorsFile> open_bytes(const std::string& bytes) {
    testing::write_bytes(dir_ / "model.safetensors", bytes);
    return SafetensorsFile::open(dir_ / "model.safetensors");
  }
  testing::TempDir dir_;
};

TEST_F(SafetensorsTest, RoundTripsEveryFloatType) {
  std::vector<float> values = {1.0f, -2.5f, 0.333333f, 65504.0f, 1e-6f, 0.0f};
  std::vector<TensorData> tensors;
  for (auto dtype : {DType::kF32, DType::kF16, DType::kBF16}) {
    tensors.push_back(
        {"t_" + std::string(dtype_name(dtype)), dtype, {2, 3}, encode_floats(values, dtype)});
  }
  ASSERT_TRUE(write_safetensors(dir_ / "m.safetensors", tensors, {{"format", "pt"}}).ok());
  auto file = SafetensorsFile::open(dir_ / "m.safetensors");
  ASSERT_TRUE(file.ok()) << file.error().to_string();
  EXPECT_EQ(file->metadata().at("format"), "pt");
  ASSERT_EQ(file->tensors().size(), 3u);
  for (const auto& t : file->tensors()) {
    auto got = file->to_f32(t);
    ASSERT_EQ(got.size(), values.size());
    const float rel = t.dtype == DType::kF32 ? 0.0f : t.dtype == DType::kF16 ? 1e-3f : 8e-3f;
    for (std::size_t i = 0; i < values.size(); ++i) {
      EXPECT_NEAR(got[i], values[i],
                  std::abs(values[i]) * rel + (t.dtype == DType::kF16 ? 1e-7f : 0.0f))
          << t.name;
    }
  }
  EXPECT_TRUE(file->require("t_F16", {2, 3}).ok());
  EXPECT_EQ(file->require("t_F16", {3, 2}).error().code, ErrorCode::kCorruptData);
  auto missing = file->require("nope", {1});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("'nope'"), std::string::npos);
  EXPECT_NE(missing.error().message.find("m.safetensors"), std::string::npos);
}

TEST_F(SafetensorsTest, RejectsTooShortFiles) {
  EXPECT_EQ(open_bytes("").error().code, ErrorCode::kCorruptData);
  EXPECT_EQ(open_bytes("abc").error().code, ErrorCode::kCorruptData);
}

TEST_F(SafetensorsTest, RejectsHeaderLongerThanFile) {
  std::uint64_t length = 1000;
  auto error = open_bytes(std::string(reinterpret_cast<const char*>(&length), 8) + "{}").error();
  EXPECT_EQ(error.code, ErrorCode::kCorruptData);
  EXPECT_NE(error.message.find("truncated"), std::string::npos);
}

TEST_F(SafetensorsTest, RejectsNonJsonHeader) {
  EXPECT_EQ(open_bytes(with_header("not json", "")).error().code, ErrorCode::kCorruptData);
  EXPECT_EQ(open_bytes(with_header("[1,2]", "")).error().code, ErrorCode::kCorruptData);
}

TEST_F(SafetensorsTest, RejectsTruncatedData) {
  // The tensor claims 16 bytes; only 8 are there (a download cut short).
  auto error = open_bytes(with_header(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
                                      std::string(8, '\0')))
                   .error();
  EXPECT_EQ(error.code, ErrorCode::kCorruptData);
  EXPECT_NE(error.message.find("'w'"), std::string::npos);
}

TEST_F(SafetensorsTest, RejectsSizeThatDoesNotMatchShape) {
  auto error = open_bytes(with_header(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})",
                                      std::string(16, '\0')))
                   .error();
  EXPECT_EQ(error.code, ErrorCode::kCorruptData);
}

TEST_F(SafetensorsTest, RejectsOverlappingTensors) {
  auto error = open_bytes(with_header(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                                      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                                      std::string(16, '\0')))
                   .error();
  EXPECT_EQ(error.code, ErrorCode::kCorruptData);
  EXPECT_NE(error.message.find("overlap"), std::string::npos);
}

TEST_F(SafetensorsTest, RejectsBadEntries) {
  for (const std::string header :
       {R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})",
        R"({"w":{"dtype":"F32","shape":[1]}})",
        R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})",
        R"({"w":{"dtype":"F32","shape":"x","data_offsets":[0,4]}})",
        R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}})",
        R"({"w":7})"}) {
    auto result = open_bytes(with_header(header, std::string(4, '\0')));
    EXPECT_FALSE(result.ok()) << header;
  }
  EXPECT_EQ(open_bytes(with_header(R"({"w":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}})", "x"))
                .error()
                .code,
            ErrorCode::kUnsupported);
}

TEST_F(SafetensorsTest, IntegerBuffersAreListedButNotUsableAsWeights) {
  auto file = open_bytes(with_header(
      R"({"ids":{"dtype":"I64","shape":[1,2],"data_offsets":[0,16]}})", std::string(16, '\0')));
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->require("ids", {1, 2}).error().code, ErrorCode::kUnsupported);
}

TEST(DType, HalfConversionsRoundTrip) {
  for (std::uint32_t bits = 0; bits < 0x10000; ++bits) {
    const auto h = static_cast<std::uint16_t>(bits);
    const float f = f16_to_f32(h);
    if (std::isnan(f)) continue;
    EXPECT_EQ(f32_to_f16(f), h) << bits;
  }
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(f32_to_f16(1e10f), 0x7c00);  // overflow → infinity
}

}  // namespace
}  // namespace lookalike::clip
