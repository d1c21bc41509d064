// ParseGenerateRequest: proto fields to SamplingParams (defaults for unset optionals), prompt
// forms, the context bound, and stop strings.
#include "server/grpc/request_conversion.h"

#include "gtest/gtest.h"

namespace stride::server::grpc {
namespace {

v1::GenerateRequest Ids(std::initializer_list<int32_t> ids) {
  v1::GenerateRequest request;
  for (int32_t id : ids) request.mutable_token_ids()->add_ids(id);
  return request;
}

TEST(RequestConversionTest, UnsetFieldsTakeSamplingParamsDefaults) {
  auto parsed = ParseGenerateRequest(Ids({1, 2}), nullptr, 100, 64);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const engine::SamplingParams defaults;
  const engine::SamplingParams& s = parsed->request.sampling;
  EXPECT_EQ(s.max_tokens, defaults.max_tokens);
  EXPECT_EQ(s.temperature, defaults.temperature);
  EXPECT_EQ(s.top_p, defaults.top_p);
  EXPECT_EQ(s.repetition_penalty, defaults.repetition_penalty);
  EXPECT_EQ(s.logprobs, -1);
  EXPECT_EQ(s.prompt_logprobs, -1);
  EXPECT_EQ(s.n, 1);
  EXPECT_FALSE(s.seed.has_value());
  EXPECT_TRUE(parsed->skip_special_tokens);
  EXPECT_EQ(parsed->request.prompt_token_ids, (std::vector<int32_t>{1, 2}));
}

TEST(RequestConversionTest, SetFieldsAreCopied) {
  v1::GenerateRequest request = Ids({3});
  v1::SamplingParams* p = request.mutable_sampling();
  p->set_max_tokens(7);
  p->set_temperature(0);
  p->set_top_p(0.5f);
  p->set_top_k(4);
  p->set_min_p(0.1f);
  p->set_repetition_penalty(1.2f);
  p->set_presence_penalty(0.3f);
  p->set_frequency_penalty(-0.4f);
  p->set_seed(0);  // 0 is a seed, not "unset"
  p->add_stop_token_ids(9);
  p->set_ignore_eos(true);
  p->set_min_tokens(2);
  p->set_logprobs(0);
  p->set_prompt_logprobs(3);
  p->set_n(2);
  p->set_skip_special_tokens(false);
  (*p->mutable_logit_bias())[5] = -1.5f;
  (*p->mutable_logit_bias())[2] = 2.0f;
  request.set_priority(-3);
  auto parsed = ParseGenerateRequest(request, nullptr, 100, 64);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const engine::SamplingParams& s = parsed->request.sampling;
  EXPECT_EQ(s.max_tokens, 7);
  EXPECT_EQ(s.temperature, 0.0f);
  EXPECT_EQ(s.top_p, 0.5f);
  EXPECT_EQ(s.top_k, 4);
  EXPECT_FLOAT_EQ(s.min_p, 0.1f);
  EXPECT_FLOAT_EQ(s.repetition_penalty, 1.2f);
  EXPECT_FLOAT_EQ(s.presence_penalty, 0.3f);
  EXPECT_FLOAT_EQ(s.frequency_penalty, -0.4f);
  ASSERT_TRUE(s.seed.has_value());
  EXPECT_EQ(*s.seed, 0u);
  EXPECT_EQ(s.stop_token_ids, std::vector<int32_t>{9});
  EXPECT_TRUE(s.ignore_eos);
  EXPECT_EQ(s.min_tokens, 2);
  EXPECT_EQ(s.logprobs, 0);
  EXPECT_EQ(s.prompt_logprobs, 3);
  EXPECT_EQ(s.n, 2);
  EXPECT_FALSE(parsed->skip_special_tokens);
  EXPECT_EQ(parsed->request.priority, -3);
  const std::vector<std::pair<int32_t, float>> bias = {{2, 2.0f}, {5, -1.5f}};
  EXPECT_EQ(s.logit_bias, bias);
}

TEST(RequestConversionTest, ContextBoundCountsPromptAndMaxTokens) {
  v1::GenerateRequest request = Ids({1, 2, 3, 4});
  request.mutable_sampling()->set_max_tokens(60);
  EXPECT_TRUE(ParseGenerateRequest(request, nullptr, 100, 64).ok());
  request.mutable_sampling()->set_max_tokens(61);
  auto parsed = ParseGenerateRequest(request, nullptr, 100, 64);
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("65"), std::string::npos) << parsed.status();
}

TEST(RequestConversionTest, PromptProblems) {
  EXPECT_EQ(ParseGenerateRequest(v1::GenerateRequest(), nullptr, 100, 64).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseGenerateRequest(Ids({}), nullptr, 100, 64).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseGenerateRequest(Ids({100}), nullptr, 100, 64).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::GenerateRequest text;
  text.set_text("hello");
  EXPECT_EQ(ParseGenerateRequest(text, nullptr, 100, 64).status().code(),
            absl::StatusCode::kFailedPrecondition);
  v1::GenerateRequest stop = Ids({1});
  stop.mutable_sampling()->add_stop("x");
  EXPECT_EQ(ParseGenerateRequest(stop, nullptr, 100, 64).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(RequestConversionTest, StatusCodesCarryOver) {
  ::grpc::Status status = ToGrpcStatus(absl::ResourceExhaustedError("full"));
  EXPECT_EQ(status.error_code(), ::grpc::RESOURCE_EXHAUSTED);
  EXPECT_EQ(status.error_message(), "full");
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

}  // namespace
}  // namespace stride::server::grpc
