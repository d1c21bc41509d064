// JSON for /v1/chat/completions responses in OpenAI's shapes: the whole response
// (object "chat.completion", choices[].message), stream chunks (object "chat.completion.chunk",
// choices[].delta; the first chunk of a choice carries role "assistant") and the usage chunk.
// Log-probs use the chat shape: {"content": [{token, logprob, bytes, top_logprobs: [...]}]}.
#pragma once

#include <vector>

#include "nlohmann/json.hpp"
#include "server/openai/generation_types.h"

namespace stride::server::openai {

class ChatFormatter {
 public:
  ChatFormatter(ResponseMeta meta, bool with_logprobs)
      : meta_(std::move(meta)), with_logprobs_(with_logprobs) {}

  // The opening chunk of a choice: delta {"role":"assistant","content":""}.
  nlohmann::json RoleChunk(int index, bool with_usage_field) const;
  nlohmann::json Chunk(const ChoiceDelta& delta, bool with_usage_field) const;
  nlohmann::json UsageChunk(const Usage& usage) const;
  nlohmann::json Response(const std::vector<ChoiceDelta>& choices, const Usage& usage) const;

 private:
  nlohmann::json Header(const char* object) const;
  nlohmann::json LogprobsJson(const std::vector<TokenLogprobText>& tokens) const;

  ResponseMeta meta_;
  bool with_logprobs_;
};

// The UTF-8 bytes of a token's text, as OpenAI's `bytes` field lists them.
nlohmann::json TokenBytes(const std::string& token);

}  // namespace stride::server::openai
