// POST /tokenize and POST /detokenize (vLLM's shapes). Tokenize takes either `prompt` (text) or
// `messages` (rendered with the chat template first).
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

struct TokenizeRequest {
  bool is_chat = false;
  std::string prompt;  // when !is_chat
  Json messages;       // when is_chat (normalized)
  Json tools;          // null when none
  Json chat_template_kwargs = Json::object();
  bool add_generation_prompt = true;
  bool add_special_tokens = true;  // default: true for prompt, false for messages
};

struct DetokenizeRequest {
  std::vector<int32_t> tokens;
};

absl::StatusOr<TokenizeRequest> ParseTokenizeBody(absl::string_view body,
                                                  const RequestContext& context);
absl::StatusOr<DetokenizeRequest> ParseDetokenizeBody(absl::string_view body,
                                                      const RequestContext& context);

}  // namespace stride::server::openai
