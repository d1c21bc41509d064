// Exact agreement with HuggingFace `tokenizers` on the committed corpus, for the three real
// tokenizer files: encodings with and without special tokens, and decodes (with and without
// skip_special_tokens). The expected files come from tests/fixtures/tokenizers/make_expected.js;
// the derived tokenizers of variants.json go through the same checks.
#include <string>
#include <vector>

#include "engine/text/tokenizer.h"
#include "gtest/gtest.h"
#include "tests/unit/engine/text/tokenizer_test_util.h"

namespace stride::engine::text {
namespace {

using testing::Corpus;
using testing::FixturePath;
using testing::LoadTokenizer;
using testing::ReadJsonLines;

std::string Show(const std::string& s) { return nlohmann::json(s).dump(); }

class TokenizerCorpusTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerCorpusTest, EncodingsAndDecodesMatchHuggingFace) {
  const Tokenizer& tokenizer = LoadTokenizer(GetParam());
  const std::vector<std::string>& corpus = Corpus();
  const auto expected = ReadJsonLines(FixturePath("expected_" + GetParam() + ".jsonl"));
  ASSERT_GE(corpus.size(), 200u);
  ASSERT_EQ(expected.size(), corpus.size()) << "regenerate with make_expected.js";
  int failures = 0;
  int round_trips = 0;
  for (size_t i = 0; i < corpus.size() && failures < 10; ++i) {
    const std::string& text = corpus[i];
    const auto ids_want = expected[i]["ids"].get<std::vector<int32_t>>();
    const auto plain_want = expected[i]["ids_plain"].get<std::vector<int32_t>>();
    auto ids = tokenizer.Encode(text, /*add_special_tokens=*/true);
    auto plain = tokenizer.Encode(text, /*add_special_tokens=*/false);
    ASSERT_TRUE(ids.ok() && plain.ok()) << ids.status() << plain.status();
    bool ok = true;
    if (*ids != ids_want) {
      ADD_FAILURE() << "line " << i + 1 << " " << Show(text) << ": ids differ from HF: got "
                    << nlohmann::json(*ids).dump() << " want " << nlohmann::json(ids_want).dump();
      ok = false;
    }
    if (*plain != plain_want) {
      ADD_FAILURE() << "line " << i + 1 << " " << Show(text) << ": ids (no specials) differ";
      ok = false;
    }
    const auto decoded = tokenizer.Decode(ids_want, /*skip_special_tokens=*/false);
    const auto decoded_skip = tokenizer.Decode(ids_want, /*skip_special_tokens=*/true);
    const auto decoded_plain = tokenizer.Decode(plain_want, /*skip_special_tokens=*/false);
    ASSERT_TRUE(decoded.ok() && decoded_skip.ok() && decoded_plain.ok());
    const auto check = [&](const std::string& got, const char* key) {
      const std::string want = expected[i][key].get<std::string>();
      if (got != want) {
        ADD_FAILURE() << "line " << i + 1 << " " << Show(text) << ": " << key << " " << Show(got)
                      << " != HF " << Show(want);
        ok = false;
      }
    };
    check(*decoded, "decoded");
    check(*decoded_skip, "decoded_skip");
    check(*decoded_plain, "decoded_plain");
    // Round trip wherever HuggingFace round-trips.
    if (expected[i]["decoded_plain"].get<std::string>() == text) {
      ++round_trips;
      EXPECT_EQ(*decoded_plain, text);
    }
    if (!ok) ++failures;
  }
  EXPECT_EQ(failures, 0);
  // With the real files most strings round-trip; a regression that broke decoding everywhere
  // would show here too. (A variant with add_prefix_space decodes with a leading space.)
  if (GetParam() == "llama3" || GetParam() == "qwen3" || GetParam() == "llama2") {
    EXPECT_GT(round_trips, static_cast<int>(corpus.size()) * 3 / 4);
  }
}

INSTANTIATE_TEST_SUITE_P(RealTokenizers, TokenizerCorpusTest,
                         ::testing::Values("llama3", "qwen3", "llama2"),
                         [](const auto& info) { return info.param; });

// Derived files (variants.json) for Metaspace, the GPT-2 regex, added-token flags and
// TemplateProcessing with prefix and suffix.
INSTANTIATE_TEST_SUITE_P(VariantTokenizers, TokenizerCorpusTest,
                         ::testing::Values("llama2_metaspace_first", "llama2_metaspace_split",
                                           "llama3_gpt2_regex", "qwen3_flags"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace stride::engine::text
