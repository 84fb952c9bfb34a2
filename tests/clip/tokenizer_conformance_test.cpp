// Conformance of ClipTokenizer: every tokenizer vector of shared/clip/conformance/expected.json,
// produced by the Hugging Face reference, must come out id for id, with each vocabulary we ship.
#include <cctype>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "clip/tokenizer.h"
#include "core/file_util.h"
#include "test_support.h"

namespace lookalike::clip {
namespace {

struct TokenizerCase {
  std::string text;
  std::vector<std::int32_t> ids;
};

std::vector<TokenizerCase> load_cases() {
  auto json = read_json_file(testing::conformance_dir() / "expected.json");
  if (!json) {
    ADD_FAILURE() << json.error().to_string();
    return {};
  }
  std::vector<TokenizerCase> cases;
  for (const auto& entry : json->at("tokenizer")) {
    cases.push_back(
        {entry.at("text").get<std::string>(), entry.at("ids").get<std::vector<std::int32_t>>()});
  }
  return cases;
}

class TokenizerConformance : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(TokenizerConformance, MatchesEveryExpectedVector) {
  auto tokenizer = ClipTokenizer::load(GetParam());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.error().to_string();
  EXPECT_EQ(tokenizer->start_token(), 49406);
  EXPECT_EQ(tokenizer->end_token(), 49407);
  EXPECT_EQ(tokenizer->vocab_size(), 49408u);

  const auto cases = load_cases();
  ASSERT_GE(cases.size(), 50u) << "expected.json holds fewer tokenizer vectors than it should";
  std::size_t passed = 0;
  for (const auto& test_case : cases) {
    const auto ids = tokenizer->encode(test_case.text);
    EXPECT_EQ(ids, test_case.ids) << "text: \"" << test_case.text << "\"";
    // A second pass goes through the word cache and must agree.
    EXPECT_EQ(tokenizer->encode(test_case.text), ids)
        << "cached, text: \"" << test_case.text << "\"";
    if (ids == test_case.ids) ++passed;
  }
  std::cout << "[ conformance ] " << passed << "/" << cases.size()
            << " tokenizer vectors match for " << GetParam() << "\n";
}

INSTANTIATE_TEST_SUITE_P(Vocabularies, TokenizerConformance,
                         ::testing::Values(testing::vocab_dir(),
                                           testing::conformance_dir() / "models" / "tiny-p32",
                                           testing::conformance_dir() / "models" /
                                               "tiny-p16-gelu-f16"),
                         [](const ::testing::TestParamInfo<std::filesystem::path>& param_info) {
                           std::string name = param_info.param.filename().string();
                           for (auto& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace lookalike::clip
