#include "server/openai/tokenize_request.h"

#include "gtest/gtest.h"
#include "server/openai/api_error.h"

namespace stride::server::openai {
namespace {

RequestContext Context() {
  RequestContext context;
  context.served_model_name = "tiny";
  context.vocab_size = 100;
  return context;
}

TEST(TokenizeRequestTest, PromptForm) {
  auto r = ParseTokenizeBody(R"({"prompt": "hi"})", Context());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->is_chat);
  EXPECT_EQ(r->prompt, "hi");
  EXPECT_TRUE(r->add_special_tokens);
}

TEST(TokenizeRequestTest, MessagesForm) {
  auto r = ParseTokenizeBody(
      R"({"messages": [{"role": "user", "content": "hi"}], "add_generation_prompt": false})",
      Context());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->is_chat);
  EXPECT_FALSE(r->add_generation_prompt);
  EXPECT_FALSE(r->add_special_tokens);  // the template has BOS already
}

TEST(TokenizeRequestTest, BadInput) {
  for (const char* body :
       {R"({})", R"({"prompt": "a", "messages": []})", R"({"prompt": 5})",
        R"({"messages": [{"role": "user"}]})", R"({"prompt": "a", "add_special_tokens": 1})"}) {
    EXPECT_EQ(ParseTokenizeBody(body, Context()).status().code(),
              absl::StatusCode::kInvalidArgument)
        << body;
  }
  EXPECT_EQ(ParseTokenizeBody(R"({"model": "x", "prompt": "a"})", Context()).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(DetokenizeRequestTest, TokensInTheVocabulary) {
  auto r = ParseDetokenizeBody(R"({"tokens": [1, 2, 99]})", Context());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tokens, (std::vector<int32_t>{1, 2, 99}));
  for (const char* body : {R"({})", R"({"tokens": [100]})", R"({"tokens": [-1]})",
                           R"({"tokens": "1"})", R"({"tokens": [1.5]})"}) {
    auto bad = ParseDetokenizeBody(body, Context());
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << body;
    EXPECT_EQ(ParamOf(bad.status()), "tokens") << body;
  }
}

}  // namespace
}  // namespace stride::server::openai
