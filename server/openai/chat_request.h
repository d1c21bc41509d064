// POST /v1/chat/completions: the request body, validated. Messages are normalized for the chat
// template: each has a role and its content as one string (text parts joined with "\n", as vLLM
// does); tool calls, tool_call_id and name pass through.
#pragma once

#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "server/openai/common_request.h"
#include "server/openai/json_body.h"

namespace stride::server::openai {

struct ChatRequest {
  Json messages = Json::array();  // normalized
  Json tools;                     // null when none
  Json chat_template_kwargs = Json::object();
  bool add_generation_prompt = true;
  CommonRequest common;  // common.max_tokens is max_completion_tokens or max_tokens
  bool logprobs = false;
  int top_logprobs = 0;
};

absl::StatusOr<ChatRequest> ParseChatRequest(const Json& body, const RequestContext& context);
absl::StatusOr<ChatRequest> ParseChatBody(absl::string_view body, const RequestContext& context);

// Validates and normalizes a `messages` list (shared with /tokenize).
absl::StatusOr<Json> NormalizeMessages(const Json* messages, const RequestLimits& limits);

}  // namespace stride::server::openai
