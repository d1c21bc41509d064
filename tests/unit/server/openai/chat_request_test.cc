#include "server/openai/chat_request.h"

#include <string>

#include "gtest/gtest.h"
#include "server/openai/api_error.h"

namespace stride::server::openai {
namespace {

RequestContext Context() {
  RequestContext context;
  context.served_model_name = "tiny";
  context.vocab_size = 1000;
  return context;
}

absl::StatusOr<ChatRequest> Parse(const std::string& body) {
  return ParseChatBody(body, Context());
}

TEST(ChatRequestTest, NormalizesMessages) {
  absl::StatusOr<ChatRequest> r = Parse(R"({"messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": "there"}]},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
        "function": {"name": "f", "arguments": "{}"}}]},
      {"role": "tool", "content": "42", "tool_call_id": "c1"}]})");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->messages.size(), 4u);
  EXPECT_EQ(r->messages[0], (Json{{"role", "system"}, {"content", "Be brief."}}));
  EXPECT_EQ(r->messages[1]["content"], "Hello\nthere");
  EXPECT_EQ(r->messages[2]["content"], "");  // null content renders as ""
  EXPECT_EQ(r->messages[2]["tool_calls"][0]["function"]["name"], "f");
  EXPECT_EQ(r->messages[3]["tool_call_id"], "c1");
  EXPECT_TRUE(r->add_generation_prompt);
  EXPECT_FALSE(r->logprobs);
  EXPECT_EQ(r->common.sampling.logprobs, -1);
  EXPECT_TRUE(r->tools.is_null());
}

TEST(ChatRequestTest, ReadsChatFields) {
  absl::StatusOr<ChatRequest> r = Parse(R"({"model": "tiny",
      "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5,
      "max_completion_tokens": 9, "logprobs": true, "top_logprobs": 3,
      "chat_template_kwargs": {"enable_thinking": false}, "add_generation_prompt": false,
      "tools": [{"type": "function", "function": {"name": "get_weather"}}],
      "tool_choice": "auto", "stream": true, "response_format": {"type": "text"}})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r->common.max_tokens, 9);  // max_completion_tokens wins
  EXPECT_TRUE(r->logprobs);
  EXPECT_EQ(r->top_logprobs, 3);
  EXPECT_EQ(r->common.sampling.logprobs, 3);
  EXPECT_EQ(r->chat_template_kwargs["enable_thinking"], false);
  EXPECT_FALSE(r->add_generation_prompt);
  EXPECT_EQ(r->tools[0]["function"]["name"], "get_weather");
  EXPECT_TRUE(r->common.stream);
}

TEST(ChatRequestTest, LogprobsWithoutTopIsZeroTop) {
  absl::StatusOr<ChatRequest> r =
      Parse(R"({"messages": [{"role": "user", "content": "hi"}], "logprobs": true})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->common.sampling.logprobs, 0);
}

struct BadCase {
  const char* body;
  const char* param;
};

class ChatBadInputTest : public testing::TestWithParam<BadCase> {};

TEST_P(ChatBadInputTest, IsA400NamingTheParam) {
  absl::StatusOr<ChatRequest> r = Parse(GetParam().body);
  ASSERT_FALSE(r.ok()) << GetParam().body;
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << GetParam().body;
  EXPECT_EQ(ParamOf(r.status()), GetParam().param) << GetParam().body;
}

INSTANTIATE_TEST_SUITE_P(
    Matrix, ChatBadInputTest,
    testing::Values(
        BadCase{R"({})", "messages"}, BadCase{R"({"messages": null})", "messages"},
        BadCase{R"({"messages": "hi"})", "messages"}, BadCase{R"({"messages": []})", "messages"},
        BadCase{R"({"messages": [{}]})", "messages[0].role"},
        BadCase{R"({"messages": [1]})", "messages[0]"},
        BadCase{R"({"messages": [{"role": "wizard", "content": "x"}]})", "messages[0].role"},
        BadCase{R"({"messages": [{"role": 3, "content": "x"}]})", "messages[0].role"},
        BadCase{R"({"messages": [{"role": "user", "content": 123}]})", "messages[0].content"},
        BadCase{R"({"messages": [{"role": "user"}]})", "messages[0].content"},
        BadCase{
            R"({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": {}}]})",
            "messages[1].content"},
        BadCase{R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})",
                "messages[0].content[0]"},
        BadCase{R"({"messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]})",
                "messages[0].content[0]"},
        BadCase{R"({"messages": [{"role": "user", "content": "x", "name": 5}]})",
                "messages[0].name"},
        BadCase{R"({"messages": [{"role": "assistant", "content": "x", "tool_calls": {}}]})",
                "messages[0].tool_calls"},
        BadCase{R"({"messages": [{"role": "user", "content": "x"}], "top_logprobs": 2})",
                "top_logprobs"},
        BadCase{R"({"messages": [{"role": "user", "content": "x"}], "logprobs": true,
                    "top_logprobs": 21})",
                "top_logprobs"},
        BadCase{R"({"messages": [{"role": "user", "content": "x"}], "logprobs": 1})", "logprobs"},
        BadCase{R"({"messages": [{"role": "user", "content": "x"}], "max_completion_tokens": 0})",
                "max_completion_tokens"},
        BadCase{R"({"messages": [{"role": "user", "content": "x"}], "tools": {}})", "tools"},
        BadCase{
            R"({"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]})",
            "tools"},
        BadCase{R"({"messages": [{"role": "user", "content": "x"}], "tool_choice": "required"})",
                "tool_choice"},
        BadCase{R"({"messages": [{"role": "user", "content": "x"}], "chat_template_kwargs": []})",
                "chat_template_kwargs"},
        BadCase{R"({"messages": [{"role": "user", "content": "x"}],
                    "response_format": {"type": "json_object"}})",
                "response_format"},
        BadCase{
            R"({"messages": [{"role": "user", "content": "x"}], "continue_final_message": true})",
            "continue_final_message"},
        BadCase{R"({"messages": [{"role": "user", "content": "x"}], "temperature": 2.5})",
                "temperature"}));

TEST(ChatRequestTest, UnknownModelIs404) {
  absl::StatusOr<ChatRequest> r =
      Parse(R"({"model": "other", "messages": [{"role": "user", "content": "x"}]})");
  EXPECT_EQ(ApiErrorFromStatus(r.status()).http_status, 404);
}

}  // namespace
}  // namespace stride::server::openai
