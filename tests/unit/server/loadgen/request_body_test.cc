#include "server/loadgen/request_body.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace stride::server::loadgen {
namespace {

TEST(HttpUrlTest, Parses) {
  auto a = ParseHttpUrl("http://127.0.0.1:8000");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, "8000");
  EXPECT_EQ(a->base_path, "");
  EXPECT_EQ(ApiPath(*a, ApiKind::kCompletions), "/v1/completions");
  auto b = ParseHttpUrl("http://example.com/proxy/v1/");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->port, "80");
  EXPECT_EQ(ApiPath(*b, ApiKind::kChat), "/proxy/v1/chat/completions");
  auto c = ParseHttpUrl("http://[::1]:9000");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, "9000");
  EXPECT_FALSE(ParseHttpUrl("https://x:1").ok());
  EXPECT_FALSE(ParseHttpUrl("http://x:0").ok());
  EXPECT_FALSE(ParseHttpUrl("http://x:99999").ok());
  EXPECT_FALSE(ParseHttpUrl("http://:80").ok());
  EXPECT_FALSE(ParseHttpUrl("127.0.0.1:8000").ok());
}

TEST(RequestBodyTest, CompletionsForcesLengthAndStreamsUsage) {
  BenchRequest request;
  request.prompt_ids = {5, 6, 7};
  request.input_len = 3;
  request.output_len = 42;
  const nlohmann::json body =
      nlohmann::json::parse(RequestBody(request, ApiKind::kCompletions, "m"));
  EXPECT_EQ(body["model"], "m");
  EXPECT_EQ(body["prompt"], nlohmann::json({5, 6, 7}));
  EXPECT_EQ(body["max_tokens"], 42);
  EXPECT_EQ(body["ignore_eos"], true);
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["stream_options"]["include_usage"], true);
  EXPECT_EQ(body["temperature"], 0.0);
  const nlohmann::json no_model =
      nlohmann::json::parse(RequestBody(request, ApiKind::kCompletions, ""));
  EXPECT_FALSE(no_model.contains("model"));
}

TEST(RequestBodyTest, ChatUsesMessagesAndWordsForIds) {
  BenchRequest request;
  request.prompt_ids = {0, 1, 2};
  request.output_len = 8;
  const nlohmann::json body = nlohmann::json::parse(RequestBody(request, ApiKind::kChat, ""));
  EXPECT_EQ(body["messages"][0]["role"], "user");
  EXPECT_EQ(body["messages"][0]["content"], "the of and");
  EXPECT_EQ(body["max_completion_tokens"], 8);
  EXPECT_EQ(body["ignore_eos"], true);
  request.prompt_text = "hello";
  EXPECT_EQ(
      nlohmann::json::parse(RequestBody(request, ApiKind::kChat, ""))["messages"][0]["content"],
      "hello");
}

}  // namespace
}  // namespace stride::server::loadgen
