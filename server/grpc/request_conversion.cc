#include "server/grpc/request_conversion.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace stride::server::grpc {
namespace {

absl::StatusOr<std::vector<int32_t>> PromptTokens(const v1::GenerateRequest& request,
                                                  const engine::text::Tokenizer* tokenizer) {
  switch (request.prompt_case()) {
    case v1::GenerateRequest::kText: {
      if (tokenizer == nullptr) {
        return absl::FailedPreconditionError(
            "this server has no tokenizer: send the prompt as token_ids");
      }
      if (request.text().empty()) return absl::InvalidArgumentError("the prompt text is empty");
      const bool add_special = !request.has_add_special_tokens() || request.add_special_tokens();
      return tokenizer->Encode(request.text(), add_special);
    }
    case v1::GenerateRequest::kTokenIds:
      return std::vector<int32_t>(request.token_ids().ids().begin(),
                                  request.token_ids().ids().end());
    case v1::GenerateRequest::PROMPT_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("the prompt is missing: set text or token_ids");
}

engine::SamplingParams ToSamplingParams(const v1::SamplingParams& p) {
  engine::SamplingParams s;
  if (p.has_max_tokens()) s.max_tokens = p.max_tokens();
  if (p.has_temperature()) s.temperature = p.temperature();
  if (p.has_top_p()) s.top_p = p.top_p();
  s.top_k = p.top_k();
  s.min_p = p.min_p();
  if (p.has_repetition_penalty()) s.repetition_penalty = p.repetition_penalty();
  s.presence_penalty = p.presence_penalty();
  s.frequency_penalty = p.frequency_penalty();
  if (p.has_seed()) s.seed = p.seed();
  s.stop_token_ids.assign(p.stop_token_ids().begin(), p.stop_token_ids().end());
  s.ignore_eos = p.ignore_eos();
  s.min_tokens = p.min_tokens();
  if (p.has_logprobs()) s.logprobs = p.logprobs();
  if (p.has_prompt_logprobs()) s.prompt_logprobs = p.prompt_logprobs();
  if (p.has_n()) s.n = p.n();
  for (const auto& [token, bias] : p.logit_bias()) s.logit_bias.emplace_back(token, bias);
  // A map has no order; sort so equal requests give equal params (and seeded results).
  std::sort(s.logit_bias.begin(), s.logit_bias.end());
  return s;
}

}  // namespace

absl::StatusOr<ParsedGenerateRequest> ParseGenerateRequest(const v1::GenerateRequest& request,
                                                           const engine::text::Tokenizer* tokenizer,
                                                           int vocab_size, int max_model_len) {
  ParsedGenerateRequest parsed;
  absl::StatusOr<std::vector<int32_t>> prompt = PromptTokens(request, tokenizer);
  if (!prompt.ok()) return prompt.status();
  if (prompt->empty()) return absl::InvalidArgumentError("the prompt is empty");
  parsed.request.prompt_token_ids = *std::move(prompt);
  parsed.request.sampling = ToSamplingParams(request.sampling());
  parsed.request.priority = request.priority();

  // Negative ids would be caught by the engine too; catching them here keeps the message the
  // same for every front end path.
  for (int32_t id : parsed.request.prompt_token_ids) {
    if (id < 0 || id >= vocab_size) {
      return absl::InvalidArgumentError(
          absl::StrCat("prompt token id ", id, " is outside the vocabulary [0, ", vocab_size, ")"));
    }
  }
  const int64_t num_prompt = static_cast<int64_t>(parsed.request.prompt_token_ids.size());
  const int max_tokens = parsed.request.sampling.max_tokens;
  if (max_tokens >= 1 && num_prompt + max_tokens > max_model_len) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the prompt has ", num_prompt, " tokens and max_tokens is ", max_tokens, "; together ",
        num_prompt + max_tokens, " exceed the model's context of ", max_model_len, " tokens"));
  }

  for (const std::string& stop : request.sampling().stop()) {
    if (stop.empty()) return absl::InvalidArgumentError("stop strings must not be empty");
    parsed.stop_strings.push_back(stop);
  }
  if (!parsed.stop_strings.empty() && tokenizer == nullptr) {
    return absl::FailedPreconditionError(
        "this server has no tokenizer, so it cannot match stop strings: use stop_token_ids");
  }
  parsed.skip_special_tokens =
      !request.sampling().has_skip_special_tokens() || request.sampling().skip_special_tokens();
  return parsed;
}

::grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return ::grpc::Status::OK;
  return ::grpc::Status(static_cast<::grpc::StatusCode>(status.code()),
                        std::string(status.message()));
}

void ToProto(const engine::TokenLogprob& logprob, v1::TokenLogprob* out) {
  out->set_token_id(logprob.token_id);
  out->set_logprob(logprob.logprob);
  for (const auto& [token, value] : logprob.top) {
    v1::TopLogprob* top = out->add_top();
    top->set_token_id(token);
    top->set_logprob(value);
  }
}

}  // namespace stride::server::grpc
