// IncrementalDetokenizer: pushes concatenate to Decode of the whole sequence for every corpus
// string and tokenizer, never emit invalid UTF-8, and hold back incomplete characters.
#include "engine/text/incremental_detokenizer.h"

#include <string>
#include <vector>

#include "engine/text/utf8.h"
#include "gtest/gtest.h"
#include "tests/unit/engine/text/tokenizer_test_util.h"

namespace stride::engine::text {
namespace {

using testing::Corpus;
using testing::LoadTokenizer;

class IncrementalDetokenizerCorpusTest : public ::testing::TestWithParam<std::string> {};

TEST_P(IncrementalDetokenizerCorpusTest, PushesConcatenateToDecode) {
  const Tokenizer& tokenizer = LoadTokenizer(GetParam());
  int held_back = 0;  // pushes that returned "" although the token has text
  for (bool skip : {false, true}) {
    for (const std::string& text : Corpus()) {
      auto ids = tokenizer.Encode(text, /*add_special_tokens=*/true);
      ASSERT_TRUE(ids.ok());
      auto whole = tokenizer.Decode(*ids, skip);
      ASSERT_TRUE(whole.ok());
      IncrementalDetokenizer detokenizer(tokenizer, skip);
      std::string streamed;
      for (int32_t id : *ids) {
        auto delta = detokenizer.Push(id);
        ASSERT_TRUE(delta.ok()) << delta.status();
        ASSERT_TRUE(IsValidUtf8(*delta)) << "push of " << id << " in " << text;
        if (delta->empty()) ++held_back;
        streamed += *delta;
      }
      EXPECT_EQ(streamed, *whole) << "skip=" << skip << " text=" << nlohmann::json(text).dump();
      EXPECT_EQ(detokenizer.Flush(), "") << "nothing may stay held back after complete text";
    }
  }
  // Emoji and CJK split into several byte tokens must have been held back at least sometimes.
  EXPECT_GT(held_back, 0);
}

INSTANTIATE_TEST_SUITE_P(RealTokenizers, IncrementalDetokenizerCorpusTest,
                         ::testing::Values("llama3", "qwen3", "llama2", "llama2_metaspace_split"),
                         [](const auto& info) { return info.param; });

TEST(IncrementalDetokenizerTest, HoldsBackByteLevelBytesOfAnEmoji) {
  const Tokenizer& tokenizer = LoadTokenizer("llama3");
  auto ids = tokenizer.Encode("\xF0\x9F\xAB\xA0", false);  // U+1FAE0, split into byte tokens
  ASSERT_TRUE(ids.ok());
  ASSERT_GT(ids->size(), 1u) << "test needs an emoji that is not one token";
  IncrementalDetokenizer detokenizer(tokenizer, false);
  for (size_t i = 0; i + 1 < ids->size(); ++i) EXPECT_EQ(*detokenizer.Push((*ids)[i]), "");
  EXPECT_EQ(*detokenizer.Push(ids->back()), "\xF0\x9F\xAB\xA0");
}

TEST(IncrementalDetokenizerTest, HoldsBackByteFallbackPieces) {
  const Tokenizer& tokenizer = LoadTokenizer("llama2");
  // U+1FAE0 is not in the SentencePiece vocabulary: four <0xNN> tokens after "▁".
  auto ids = tokenizer.Encode("x \xF0\x9F\xAB\xA0", false);
  ASSERT_TRUE(ids.ok());
  IncrementalDetokenizer detokenizer(tokenizer, false);
  std::vector<std::string> deltas;
  for (int32_t id : *ids) deltas.push_back(*detokenizer.Push(id));
  ASSERT_GE(deltas.size(), 4u);
  EXPECT_EQ(deltas[deltas.size() - 2], "");
  EXPECT_EQ(deltas[deltas.size() - 3], "");
  EXPECT_EQ(deltas.back(), "\xF0\x9F\xAB\xA0");
  std::string all;
  for (const auto& d : deltas) all += d;
  EXPECT_EQ(all, "x \xF0\x9F\xAB\xA0");
}

TEST(IncrementalDetokenizerTest, FlushReturnsTruncatedCharacterAsDecodeShowsIt) {
  const Tokenizer& tokenizer = LoadTokenizer("llama3");
  auto ids = tokenizer.Encode("ok \xF0\x9F\xAB\xA0", false);
  ASSERT_TRUE(ids.ok());
  ids->pop_back();  // cut the emoji short
  IncrementalDetokenizer detokenizer(tokenizer, false);
  std::string streamed;
  for (int32_t id : *ids) streamed += *detokenizer.Push(id);
  EXPECT_EQ(streamed, "ok");
  const std::string rest = detokenizer.Flush();
  EXPECT_EQ(streamed + rest, *tokenizer.Decode(*ids, false));
  EXPECT_TRUE(EndsWithReplacementChar(rest));
}

TEST(IncrementalDetokenizerTest, ContextKeepsSentencePieceLeadingSpace) {
  const Tokenizer& tokenizer = LoadTokenizer("llama2");
  auto prompt = tokenizer.Encode("Hello", true);     // <s> ▁Hello
  auto all = tokenizer.Encode("Hello world", true);  // <s> ▁Hello ▁world
  ASSERT_TRUE(prompt.ok() && all.ok());
  ASSERT_EQ(all->size(), prompt->size() + 1);
  const int32_t world = all->back();
  IncrementalDetokenizer with_context(tokenizer, true, *prompt);
  IncrementalDetokenizer without_context(tokenizer, true);
  EXPECT_EQ(*with_context.Push(world), " world");    // the space survives after a prompt
  EXPECT_EQ(*without_context.Push(world), "world");  // at the very start, SentencePiece strips it
}

TEST(IncrementalDetokenizerTest, RejectsUnknownIdAndContinues) {
  const Tokenizer& tokenizer = LoadTokenizer("qwen3");
  IncrementalDetokenizer detokenizer(tokenizer, false);
  EXPECT_FALSE(detokenizer.Push(tokenizer.vocab_size()).ok());
  EXPECT_FALSE(detokenizer.Push(-1).ok());
  auto ids = tokenizer.Encode("fine", false);
  std::string streamed;
  for (int32_t id : *ids) streamed += *detokenizer.Push(id);
  EXPECT_EQ(streamed, "fine");
}

}  // namespace
}  // namespace stride::engine::text
