// POST /v1/completions: the request body, validated. Prompts stay as the client gave them (text
// or token ids); the HTTP layer tokenizes text and resolves max_tokens against the context.
#pragma once

#include <cstdint>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "server/openai/common_request.h"
#include "server/openai/json_body.h"

namespace stride::server::openai {

struct Prompt {
  bool is_text = true;
  std::string text;                // when is_text
  std::vector<int32_t> token_ids;  // otherwise
};

struct CompletionRequest {
  std::vector<Prompt> prompts;  // one or more (a batch); each yields n choices
  CommonRequest common;
  bool echo = false;
  int logprobs = -1;  // -1: none; else the number of top log-probs per token
};

absl::StatusOr<CompletionRequest> ParseCompletionRequest(const Json& body,
                                                         const RequestContext& context);
// Body text -> request (JSON parsing with the depth limit, then ParseCompletionRequest).
absl::StatusOr<CompletionRequest> ParseCompletionBody(absl::string_view body,
                                                      const RequestContext& context);

}  // namespace stride::server::openai
