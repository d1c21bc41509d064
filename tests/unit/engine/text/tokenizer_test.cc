// Tokenizer metadata, special-token handling, long inputs and error paths, on the real files and
// on a tiny hand-written tokenizer.json.
#include "engine/text/tokenizer.h"

#include <chrono>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/engine/text/tokenizer_test_util.h"

namespace stride::engine::text {
namespace {

using ::testing::HasSubstr;
using testing::LoadTokenizer;

TEST(TokenizerTest, Llama3Metadata) {
  const Tokenizer& t = LoadTokenizer("llama3");
  EXPECT_EQ(t.vocab_size(), 128256);
  EXPECT_EQ(t.bos_token_id(), 128000);
  EXPECT_EQ(t.eos_token_ids(), std::vector<int32_t>{128001});
  EXPECT_EQ(t.bos_token(), "<|begin_of_text|>");
  EXPECT_EQ(t.eos_token(), "<|end_of_text|>");
  EXPECT_EQ(t.chat_template().rfind("{% set loop_messages = messages %}", 0), 0u);
  EXPECT_TRUE(t.IsSpecial(128000));
  EXPECT_FALSE(t.IsSpecial(9906));  // "Hello"
}

TEST(TokenizerTest, Qwen3Metadata) {
  const Tokenizer& t = LoadTokenizer("qwen3");
  EXPECT_EQ(t.vocab_size(), 151669);
  EXPECT_EQ(t.bos_token_id(), std::nullopt);
  EXPECT_EQ(t.bos_token(), "");
  EXPECT_EQ(t.eos_token_ids(), std::vector<int32_t>{151645});
  EXPECT_TRUE(t.IsSpecial(151644));   // <|im_start|>
  EXPECT_FALSE(t.IsSpecial(151667));  // <think> is an added token but not special
  EXPECT_THAT(t.chat_template(), HasSubstr("<|im_start|>"));
  // Non-special added tokens survive skip_special_tokens.
  EXPECT_EQ(*t.Decode(std::vector<int32_t>{151644, 151667}, true), "<think>");
}

TEST(TokenizerTest, Llama2AddsBosOnlyWithSpecialTokens) {
  const Tokenizer& t = LoadTokenizer("llama2");
  EXPECT_EQ(t.bos_token_id(), 1);
  EXPECT_EQ(t.eos_token_ids(), std::vector<int32_t>{2});
  EXPECT_EQ(t.chat_template(), "");
  auto with = t.Encode("Hello", true);
  auto without = t.Encode("Hello", false);
  ASSERT_TRUE(with.ok() && without.ok());
  EXPECT_EQ((*with)[0], 1);
  EXPECT_EQ(with->size(), without->size() + 1);
  EXPECT_EQ(*t.Encode("", true), std::vector<int32_t>{1});
}

TEST(TokenizerTest, LongWordsEncodeQuicklyAndRoundTrip) {
  std::string word;
  uint32_t state = 7;
  for (int i = 0; i < 20000; ++i) {
    state = state * 1103515245 + 12345;
    word += static_cast<char>('a' + (state >> 16) % 26);
  }
  for (const char* name : {"llama3", "qwen3", "llama2"}) {
    const Tokenizer& t = LoadTokenizer(name);
    const auto start = std::chrono::steady_clock::now();
    auto ids = t.Encode(word, false);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_TRUE(ids.ok());
    EXPECT_LT(seconds, 2.0) << name;
    EXPECT_EQ(*t.Decode(*ids, false), word) << name;
  }
  // Llama-2 has no pre-tokenizer: 1 MB without spaces is a single BPE word.
  const std::string huge(1 << 20, 'x');
  const auto start = std::chrono::steady_clock::now();
  auto ids = LoadTokenizer("llama2").Encode(huge, false);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(ids.ok());
  EXPECT_LT(seconds, 10.0);
  EXPECT_EQ(*LoadTokenizer("llama2").Decode(*ids, false), huge);
}

TEST(TokenizerTest, RejectsInvalidUtf8AndUnknownIds) {
  const Tokenizer& t = LoadTokenizer("qwen3");
  auto bad = t.Encode("abc\xC3", false);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  auto out_of_range = t.Decode(std::vector<int32_t>{1, t.vocab_size()}, false);
  EXPECT_EQ(out_of_range.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(t.Decode(std::vector<int32_t>{-5}, false).ok());
}

TEST(TokenizerTest, MissingDirectoryIsNotFound) {
  auto t = Tokenizer::FromDirectory("/nonexistent/dir");
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);
}

// A tiny byte-level-free BPE: a b c, merges a+b and ab+c.
std::string TinyTokenizerJson(const std::string& section_overrides = "") {
  return R"({
    "added_tokens": [
      {"id": 7, "content": "<s>", "special": true, "normalized": false},
      {"id": 8, "content": "</s>", "special": true, "normalized": false}
    ],
    "normalizer": null, "pre_tokenizer": {"type": "Split", "pattern": {"String": " "},
                                          "behavior": "Removed", "invert": false},
    "post_processor": null, "decoder": {"type": "Fuse"},)" +
         section_overrides + R"(
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4, "<unk>": 5},
              "merges": ["a b", "ab c"], "unk_token": "<unk>", "fuse_unk": true}
  })";
}

TEST(TokenizerTest, TinyBpeMergesFusesUnknownsAndSplits) {
  auto t = Tokenizer::FromJson(TinyTokenizerJson());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*(*t)->Encode("abc ab ba", false), (std::vector<int32_t>{4, 3, 1, 0}));
  EXPECT_EQ(*(*t)->Encode("axyzb", false), (std::vector<int32_t>{0, 5, 1}));  // xyz: one <unk>
  EXPECT_EQ(*(*t)->Encode("<s>ab</s>", false), (std::vector<int32_t>{7, 3, 8}));
  EXPECT_EQ(*(*t)->Decode(std::vector<int32_t>{7, 4, 8}, true), "abc");
  EXPECT_EQ((*t)->vocab_size(), 9);
}

TEST(TokenizerTest, ConfigAddsBosAndEosAndReadsObjectTokens) {
  const std::string config = R"({
    "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>",
    "add_bos_token": true, "add_eos_token": true,
    "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]
  })";
  auto t = Tokenizer::FromJson(TinyTokenizerJson(), config);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*(*t)->Encode("ab", true), (std::vector<int32_t>{7, 3, 8}));
  EXPECT_EQ(*(*t)->Encode("ab", false), (std::vector<int32_t>{3}));
  EXPECT_EQ((*t)->bos_token(), "<s>");
  EXPECT_EQ((*t)->eos_token_ids(), std::vector<int32_t>{8});
  EXPECT_EQ((*t)->chat_template(), "D");
}

TEST(TokenizerTest, ConfigCanDropTheTemplateBos) {
  const std::string with_template = TinyTokenizerJson(R"(
    "post_processor": {"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
      "special_tokens": {"<s>": {"id": "<s>", "ids": [7], "tokens": ["<s>"]}}},)");
  auto t = Tokenizer::FromJson(with_template, R"({"bos_token": "<s>"})");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*(*t)->Encode("ab", true), (std::vector<int32_t>{7, 3}));
  auto no_bos =
      Tokenizer::FromJson(with_template, R"({"bos_token": "<s>", "add_bos_token": false})");
  ASSERT_TRUE(no_bos.ok()) << no_bos.status();
  EXPECT_EQ(*(*no_bos)->Encode("ab", true), (std::vector<int32_t>{3}));
}

TEST(TokenizerTest, UnsupportedComponentsAreNamedInTheError) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("normalizer": {"type": "Lowercase"},)", "Lowercase"},
      {R"("pre_tokenizer": {"type": "Whitespace"},)", "Whitespace"},
      {R"("decoder": {"type": "WordPiece"},)", "WordPiece"},
      {R"("post_processor": {"type": "Unknown"},)", "Unknown"},
  };
  for (const auto& [section, type] : cases) {
    // Later keys win in nlohmann::json, so append the override after the defaults.
    std::string json = TinyTokenizerJson();
    json.insert(json.rfind('}'), "," + section.substr(0, section.size() - 1));
    auto t = Tokenizer::FromJson(json);
    ASSERT_FALSE(t.ok()) << type;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kUnimplemented) << t.status();
    EXPECT_THAT(std::string(t.status().message()), HasSubstr("'" + type + "'"));
  }
  auto unigram = Tokenizer::FromJson(R"({"model": {"type": "Unigram", "vocab": []}})");
  EXPECT_THAT(std::string(unigram.status().message()), HasSubstr("'Unigram'"));
  EXPECT_FALSE(Tokenizer::FromJson("{not json").ok());
  EXPECT_FALSE(Tokenizer::FromJson(TinyTokenizerJson(), R"({"bos_token": "<nope>"})").ok());
}

}  // namespace
}  // namespace stride::engine::text
