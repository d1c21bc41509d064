#include "server/openai/completion_request.h"

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

absl::StatusOr<CompletionRequest> Parse(const std::string& body) {
  return ParseCompletionBody(body, Context());
}

TEST(CompletionRequestTest, MinimalRequestGetsDefaults) {
  absl::StatusOr<CompletionRequest> r = Parse(R"({"prompt": "Hello"})");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->prompts.size(), 1u);
  EXPECT_TRUE(r->prompts[0].is_text);
  EXPECT_EQ(r->prompts[0].text, "Hello");
  EXPECT_FALSE(r->common.max_tokens.has_value());
  EXPECT_EQ(r->common.sampling.n, 1);
  EXPECT_FLOAT_EQ(r->common.sampling.temperature, 1.0f);
  EXPECT_EQ(r->logprobs, -1);
  EXPECT_FALSE(r->echo);
  EXPECT_FALSE(r->common.stream);
  EXPECT_TRUE(r->common.skip_special_tokens);
}

TEST(CompletionRequestTest, ReadsEveryField) {
  absl::StatusOr<CompletionRequest> r = Parse(R"({
    "model": "tiny", "prompt": [[1, 2, 3], "text"], "max_tokens": 7, "temperature": 0.5,
    "top_p": 0.9, "n": 3, "stream": true, "stream_options": {"include_usage": true},
    "logprobs": 2, "echo": true, "stop": ["a", "bc"], "seed": -1, "presence_penalty": 0.5,
    "frequency_penalty": -0.5, "logit_bias": {"5": 10, "7": -100}, "user": "u",
    "top_k": 40, "min_p": 0.1, "repetition_penalty": 1.2, "min_tokens": 2, "ignore_eos": true,
    "stop_token_ids": [9], "prompt_logprobs": 1, "skip_special_tokens": false, "priority": -3,
    "include_stop_str_in_output": true})");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->prompts.size(), 2u);
  EXPECT_FALSE(r->prompts[0].is_text);
  EXPECT_EQ(r->prompts[0].token_ids, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(r->prompts[1].text, "text");
  const scheduler::SamplingParams& s = r->common.sampling;
  EXPECT_EQ(*r->common.max_tokens, 7);
  EXPECT_FLOAT_EQ(s.temperature, 0.5f);
  EXPECT_FLOAT_EQ(s.top_p, 0.9f);
  EXPECT_EQ(s.n, 3);
  EXPECT_TRUE(r->common.stream);
  EXPECT_TRUE(r->common.include_usage);
  EXPECT_EQ(r->logprobs, 2);
  EXPECT_EQ(s.logprobs, 2);
  EXPECT_EQ(s.prompt_logprobs, 2);  // echo + logprobs needs the prompt's log-probs
  EXPECT_TRUE(r->echo);
  EXPECT_EQ(r->common.stop, (std::vector<std::string>{"a", "bc"}));
  EXPECT_EQ(*s.seed, ~uint64_t{0});
  EXPECT_FLOAT_EQ(s.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(s.frequency_penalty, -0.5f);
  ASSERT_EQ(s.logit_bias.size(), 2u);
  EXPECT_EQ(s.top_k, 40);
  EXPECT_FLOAT_EQ(s.min_p, 0.1f);
  EXPECT_FLOAT_EQ(s.repetition_penalty, 1.2f);
  EXPECT_EQ(s.min_tokens, 2);
  EXPECT_TRUE(s.ignore_eos);
  EXPECT_EQ(s.stop_token_ids, (std::vector<int32_t>{9}));
  EXPECT_FALSE(r->common.skip_special_tokens);
  EXPECT_EQ(r->common.priority, -3);
  EXPECT_TRUE(r->common.include_stop_str_in_output);
}

TEST(CompletionRequestTest, PromptForms) {
  EXPECT_EQ(Parse(R"({"prompt": ["a", "b", "c"]})")->prompts.size(), 3u);
  EXPECT_EQ(Parse(R"({"prompt": [5, 6]})")->prompts.size(), 1u);
  EXPECT_EQ(Parse(R"({"prompt": [[5], [6, 7]]})")->prompts[1].token_ids.size(), 2u);
}

TEST(CompletionRequestTest, SeedAcceptsTheFullUnsignedRange) {
  EXPECT_EQ(*Parse(R"({"prompt": "x", "seed": 18446744073709551615})")->common.sampling.seed,
            ~uint64_t{0});
  EXPECT_EQ(*Parse(R"({"prompt": "x", "seed": 42})")->common.sampling.seed, 42u);
}

TEST(CompletionRequestTest, UnknownModelIsNotFound) {
  absl::StatusOr<CompletionRequest> r = Parse(R"({"model": "gpt-4", "prompt": "x"})");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ApiErrorFromStatus(r.status()).http_status, 404);
}

struct BadCase {
  const char* body;
  const char* param;
};

class CompletionBadInputTest : public testing::TestWithParam<BadCase> {};

TEST_P(CompletionBadInputTest, IsA400NamingTheParam) {
  absl::StatusOr<CompletionRequest> r = Parse(GetParam().body);
  ASSERT_FALSE(r.ok()) << GetParam().body;
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << GetParam().body;
  EXPECT_EQ(ParamOf(r.status()), GetParam().param) << GetParam().body;
  EXPECT_EQ(ApiErrorFromStatus(r.status()).http_status, 400);
}

INSTANTIATE_TEST_SUITE_P(
    Matrix, CompletionBadInputTest,
    testing::Values(
        BadCase{R"({})", "prompt"}, BadCase{R"({"prompt": null})", "prompt"},
        BadCase{R"({"prompt": ""})", "prompt"}, BadCase{R"({"prompt": []})", "prompt"},
        BadCase{R"({"prompt": [[]]})", "prompt"}, BadCase{R"({"prompt": 5})", "prompt"},
        BadCase{R"({"prompt": [1, -1]})", "prompt"}, BadCase{R"({"prompt": [1000]})", "prompt"},
        BadCase{R"({"prompt": [1, "a"]})", "prompt"}, BadCase{R"({"prompt": [1.5]})", "prompt"},
        BadCase{R"({"prompt": ["a", 3]})", "prompt"}, BadCase{R"({"prompt": [{}]})", "prompt"},
        BadCase{R"({"prompt": "x", "model": 3})", "model"},
        BadCase{R"({"prompt": "x", "max_tokens": 0})", "max_tokens"},
        BadCase{R"({"prompt": "x", "max_tokens": -1})", "max_tokens"},
        BadCase{R"({"prompt": "x", "max_tokens": 9223372036854775808})", "max_tokens"},
        BadCase{R"({"prompt": "x", "max_tokens": 9223372036854775807})", "max_tokens"},
        BadCase{R"({"prompt": "x", "max_tokens": 1.5})", "max_tokens"},
        BadCase{R"({"prompt": "x", "max_tokens": "16"})", "max_tokens"},
        BadCase{R"({"prompt": "x", "temperature": -1})", "temperature"},
        BadCase{R"({"prompt": "x", "temperature": 3})", "temperature"},
        BadCase{R"({"prompt": "x", "temperature": "hot"})", "temperature"},
        BadCase{R"({"prompt": "x", "top_p": 0})", "top_p"},
        BadCase{R"({"prompt": "x", "top_p": 1.5})", "top_p"},
        BadCase{R"({"prompt": "x", "top_k": -5})", "top_k"},
        BadCase{R"({"prompt": "x", "min_p": 2})", "min_p"},
        BadCase{R"({"prompt": "x", "n": 0})", "n"},
        BadCase{R"({"prompt": "x", "n": 1000000})", "n"},
        BadCase{R"({"prompt": "x", "n": 2, "best_of": 3})", "best_of"},
        BadCase{R"({"prompt": "x", "logprobs": 21})", "logprobs"},
        BadCase{R"({"prompt": "x", "logprobs": -1})", "logprobs"},
        BadCase{R"({"prompt": "x", "logprobs": true})", "logprobs"},
        BadCase{R"({"prompt": "x", "prompt_logprobs": 21})", "prompt_logprobs"},
        BadCase{R"({"prompt": "x", "stop": ""})", "stop"},
        BadCase{R"({"prompt": "x", "stop": ["a", ""]})", "stop"},
        BadCase{R"({"prompt": "x", "stop": [1]})", "stop"},
        BadCase{R"({"prompt": "x", "stop": 7})", "stop"},
        BadCase{R"({"prompt": "x", "stop": ["1","2","3","4","5","6","7","8","9","10","11",
                    "12","13","14","15","16","17"]})",
                "stop"},
        BadCase{R"({"prompt": "x", "logit_bias": {"abc": 1}})", "logit_bias"},
        BadCase{R"({"prompt": "x", "logit_bias": {"-1": 1}})", "logit_bias"},
        BadCase{R"({"prompt": "x", "logit_bias": {"1000": 1}})", "logit_bias"},
        BadCase{R"({"prompt": "x", "logit_bias": {"5": 101}})", "logit_bias"},
        BadCase{R"({"prompt": "x", "logit_bias": {"5": "high"}})", "logit_bias"},
        BadCase{R"({"prompt": "x", "logit_bias": [1]})", "logit_bias"},
        BadCase{R"({"prompt": "x", "presence_penalty": 3})", "presence_penalty"},
        BadCase{R"({"prompt": "x", "frequency_penalty": -2.5})", "frequency_penalty"},
        BadCase{R"({"prompt": "x", "repetition_penalty": 0})", "repetition_penalty"},
        BadCase{R"({"prompt": "x", "min_tokens": -1})", "min_tokens"},
        BadCase{R"({"prompt": "x", "stop_token_ids": [1000]})", "stop_token_ids"},
        BadCase{R"({"prompt": "x", "stop_token_ids": 5})", "stop_token_ids"},
        BadCase{R"({"prompt": "x", "seed": 1.5})", "seed"},
        BadCase{R"({"prompt": "x", "stream": "yes"})", "stream"},
        BadCase{R"({"prompt": "x", "stream_options": {"include_usage": true}})", "stream_options"},
        BadCase{R"({"prompt": "x", "stream": true, "stream_options": 1})", "stream_options"},
        BadCase{R"({"prompt": "x", "echo": 1})", "echo"},
        BadCase{R"({"prompt": "x", "suffix": "y"})", "suffix"},
        BadCase{R"({"prompt": "x", "ignore_eos": "no"})", "ignore_eos"},
        BadCase{R"({"prompt": "x", "user": 5})", "user"}));

TEST(CompletionRequestTest, MalformedBodiesAre400) {
  for (const char* body : {"", "{", "[]", "42", "null", "{\"prompt\": \"\xff\"}",
                           "{\"prompt\": \"x\", \"temperature\": 1e999}"}) {
    absl::StatusOr<CompletionRequest> r = Parse(body);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << body;
  }
}

}  // namespace
}  // namespace stride::server::openai
