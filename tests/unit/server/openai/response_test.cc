// Response shapes of /v1/completions and /v1/chat/completions, and SSE framing.
#include <string>

#include "gtest/gtest.h"
#include "server/openai/chat_response.h"
#include "server/openai/completion_response.h"
#include "server/openai/sse.h"

namespace stride::server::openai {
namespace {

using nlohmann::json;

ResponseMeta Meta() { return ResponseMeta{"cmpl-1", 1700000000, "tiny"}; }

TokenLogprobText Token(int32_t id, std::string text, float logprob,
                       std::vector<TopLogprob> top = {}) {
  TokenLogprobText t;
  t.token_id = id;
  t.token = std::move(text);
  t.logprob = logprob;
  t.top = std::move(top);
  return t;
}

TEST(SseTest, FramesOneJsonLinePerEvent) {
  EXPECT_EQ(SseEvent(json{{"a", "x\ny"}}), "data: {\"a\":\"x\\ny\"}\n\n");
  EXPECT_EQ(std::string(kSseDone), "data: [DONE]\n\n");
}

TEST(SseTest, ReplacesInvalidUtf8InsteadOfThrowing) {
  const std::string event = SseEvent(json{{"text", std::string("a\xff")}});
  EXPECT_EQ(event, "data: {\"text\":\"a\xEF\xBF\xBD\"}\n\n");
}

TEST(CompletionFormatterTest, ResponseShape) {
  CompletionFormatter format(Meta(), /*with_logprobs=*/false);
  ChoiceDelta a{0, "Hello", {}, "length", std::nullopt};
  ChoiceDelta b{1, "Hi", {}, "stop", std::string("!")};
  json r = format.Response({a, b}, Usage{3, 7});
  EXPECT_EQ(r["id"], "cmpl-1");
  EXPECT_EQ(r["object"], "text_completion");
  EXPECT_EQ(r["created"], 1700000000);
  EXPECT_EQ(r["model"], "tiny");
  ASSERT_EQ(r["choices"].size(), 2u);
  EXPECT_EQ(r["choices"][0]["text"], "Hello");
  EXPECT_EQ(r["choices"][0]["finish_reason"], "length");
  EXPECT_TRUE(r["choices"][0]["logprobs"].is_null());
  EXPECT_EQ(r["choices"][1]["index"], 1);
  EXPECT_EQ(r["choices"][1]["stop_reason"], "!");
  EXPECT_EQ(r["usage"],
            (json{{"prompt_tokens", 3}, {"completion_tokens", 7}, {"total_tokens", 10}}));
}

TEST(CompletionFormatterTest, LogprobsShapeWithEchoAndOffsetsAcrossChunks) {
  CompletionFormatter format(Meta(), /*with_logprobs=*/true);
  TokenLogprobText first;  // echo: the first prompt token has no log-prob
  first.token_id = 1;
  first.token = "Hé";
  ChoiceDelta d1{
      0, "Hé lo", {first, Token(2, " lo", -0.5f, {{2, " lo", -0.5f}, {3, "x", -1.5f}})}, "", {}};
  json c1 = format.Chunk(d1, /*with_usage_field=*/true);
  const json& lp1 = c1["choices"][0]["logprobs"];
  EXPECT_EQ(lp1["tokens"], (json{"Hé", " lo"}));
  EXPECT_TRUE(lp1["token_logprobs"][0].is_null());
  EXPECT_FLOAT_EQ(lp1["token_logprobs"][1].get<float>(), -0.5f);
  EXPECT_TRUE(lp1["top_logprobs"][0].is_null());
  EXPECT_EQ(lp1["top_logprobs"][1].size(), 2u);
  EXPECT_FLOAT_EQ(lp1["top_logprobs"][1]["x"].get<float>(), -1.5f);
  EXPECT_EQ(lp1["text_offset"], (json{0, 2}));  // "Hé" is 2 characters, 3 bytes
  EXPECT_TRUE(c1.contains("usage") && c1["usage"].is_null());
  EXPECT_TRUE(c1["choices"][0]["finish_reason"].is_null());

  // The sampled token is always in top_logprobs, even outside the top k (k + 1 entries).
  ChoiceDelta d2{0, "!", {Token(4, "!", -3.0f, {{5, "?", -0.1f}})}, "stop", {}};
  json c2 = format.Chunk(d2, false);
  const json& lp2 = c2["choices"][0]["logprobs"];
  EXPECT_EQ(lp2["text_offset"], (json{5}));  // continues after "Hé lo"
  EXPECT_EQ(lp2["top_logprobs"][0].size(), 2u);
  EXPECT_FLOAT_EQ(lp2["top_logprobs"][0]["!"].get<float>(), -3.0f);
  EXPECT_EQ(c2["choices"][0]["finish_reason"], "stop");
  EXPECT_FALSE(c2.contains("usage"));

  // Another choice has its own offsets.
  ChoiceDelta other{1, "z", {Token(6, "z", -1.0f)}, "", {}};
  EXPECT_EQ(format.Chunk(other, false)["choices"][0]["logprobs"]["text_offset"], (json{0}));
}

TEST(CompletionFormatterTest, UsageChunkHasNoChoices) {
  CompletionFormatter format(Meta(), false);
  json chunk = format.UsageChunk(Usage{4, 5});
  EXPECT_TRUE(chunk["choices"].empty());
  EXPECT_EQ(chunk["usage"]["total_tokens"], 9);
}

TEST(CompletionFormatterTest, PromptLogprobsAttachPerChoice) {
  std::vector<TokenLogprobText> tokens(1);
  tokens.push_back(Token(8, "b", -2.0f, {{9, "c", -0.25f}}));
  json prompt = PromptLogprobsJson(tokens);
  ASSERT_EQ(prompt.size(), 2u);
  EXPECT_TRUE(prompt[0].is_null());
  EXPECT_FLOAT_EQ(prompt[1]["8"]["logprob"].get<float>(), -2.0f);
  EXPECT_EQ(prompt[1]["9"]["rank"], 1);
  EXPECT_EQ(prompt[1]["9"]["decoded_token"], "c");
  CompletionFormatter format(Meta(), false);
  json r = format.Response({ChoiceDelta{0, "x", {}, "length", {}}}, Usage{2, 1}, {prompt});
  EXPECT_EQ(r["choices"][0]["prompt_logprobs"], prompt);
}

TEST(ChatFormatterTest, ResponseShape) {
  ChatFormatter format(ResponseMeta{"chatcmpl-1", 5, "tiny"}, /*with_logprobs=*/true);
  ChoiceDelta c{
      0, "Hey", {Token(1, "Hey", -0.75f, {{1, "Hey", -0.75f}, {2, "Yo", -1.0f}})}, "length", {}};
  json r = format.Response({c}, Usage{10, 1});
  EXPECT_EQ(r["object"], "chat.completion");
  EXPECT_EQ(r["choices"][0]["message"], (json{{"role", "assistant"}, {"content", "Hey"}}));
  const json& entry = r["choices"][0]["logprobs"]["content"][0];
  EXPECT_EQ(entry["token"], "Hey");
  EXPECT_FLOAT_EQ(entry["logprob"].get<float>(), -0.75f);
  EXPECT_EQ(entry["bytes"], (json{72, 101, 121}));
  ASSERT_EQ(entry["top_logprobs"].size(), 2u);
  EXPECT_EQ(entry["top_logprobs"][1]["token"], "Yo");
  EXPECT_EQ(r["usage"]["total_tokens"], 11);
}

TEST(ChatFormatterTest, StreamChunks) {
  ChatFormatter format(ResponseMeta{"chatcmpl-1", 5, "tiny"}, false);
  json role = format.RoleChunk(2, true);
  EXPECT_EQ(role["object"], "chat.completion.chunk");
  EXPECT_EQ(role["choices"][0]["index"], 2);
  EXPECT_EQ(role["choices"][0]["delta"], (json{{"role", "assistant"}, {"content", ""}}));
  EXPECT_TRUE(role["usage"].is_null());
  json text = format.Chunk(ChoiceDelta{2, "ab", {}, "", {}}, false);
  EXPECT_EQ(text["choices"][0]["delta"], (json{{"content", "ab"}}));
  EXPECT_TRUE(text["choices"][0]["finish_reason"].is_null());
  EXPECT_TRUE(text["choices"][0]["logprobs"].is_null());
  json last = format.Chunk(ChoiceDelta{2, "", {}, "stop", {}}, false);
  EXPECT_EQ(last["choices"][0]["delta"], json::object());
  EXPECT_EQ(last["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(format.UsageChunk(Usage{1, 2})["choices"].empty());
}

TEST(CodePointCountTest, CountsCharactersNotBytes) {
  EXPECT_EQ(CodePointCount(""), 0);
  EXPECT_EQ(CodePointCount("abc"), 3);
  EXPECT_EQ(CodePointCount("\xF0\x9F\x98\x80x"), 2);
}

}  // namespace
}  // namespace stride::server::openai
