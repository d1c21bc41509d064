// The request fields that /v1/completions and /v1/chat/completions share: model, sampling knobs
// (OpenAI's and vLLM's extensions), stop conditions, streaming options. Each endpoint's parser
// calls ParseCommonRequest and then reads its own fields.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "scheduler/request.h"
#include "server/openai/json_body.h"

namespace stride::server::openai {

// Upper bounds on what one request may ask for; beyond them the request is a 400.
struct RequestLimits {
  int max_n = 128;
  int max_logprobs = 20;
  int max_stop_strings = 16;
  int max_stop_string_bytes = 512;
  int max_logit_bias = 1024;
  int max_stop_token_ids = 1024;
  int64_t max_tokens = 1 << 20;  // before the context-length check
  int max_prompts = 256;         // batched completion prompts
  int max_prompt_token_ids = 1 << 20;
  int max_messages = 4096;
};

// What validation needs to know about the server.
struct RequestContext {
  std::string served_model_name;
  int vocab_size = 0;
  RequestLimits limits;
};

struct CommonRequest {
  // max_tokens, logprobs and prompt_logprobs are filled in by the endpoint parser and the
  // context-length check.
  scheduler::SamplingParams sampling;
  std::optional<int64_t> max_tokens;  // as the client gave it
  std::vector<std::string> stop;
  bool include_stop_str_in_output = false;
  bool skip_special_tokens = true;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  int priority = 0;
};

absl::StatusOr<CommonRequest> ParseCommonRequest(const Json& body, const RequestContext& context);

// max_tokens for a prompt of `num_prompt_tokens`: the client's value when it fits the context
// (else a 400), or `default_max_tokens` (<= 0: all the context) clamped to what is left. A
// prompt that leaves no room for one token is a 400.
absl::StatusOr<int> ResolveMaxTokens(int num_prompt_tokens, std::optional<int64_t> requested,
                                     int default_max_tokens, int max_model_len);

}  // namespace stride::server::openai
