// Plain data between the generation driver (server/http) and the response formatters: what one
// choice produced (text, log-probs with their token texts, finish reason) and the usage counts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stride::server::openai {

struct TopLogprob {
  int32_t token_id = 0;
  std::string token;  // the token's text
  float logprob = 0.0f;
};

struct TokenLogprobText {
  int32_t token_id = 0;
  std::string token;
  std::optional<float> logprob;  // null for the first prompt token (echo / prompt_logprobs)
  std::vector<TopLogprob> top;   // best first
};

// What one choice gained since the last chunk (or all of it, for a whole response).
struct ChoiceDelta {
  int index = 0;
  std::string text;
  std::vector<TokenLogprobText> logprobs;  // of the tokens behind this delta
  std::string finish_reason;               // "" while the choice runs; "stop" or "length"
  std::optional<std::string> stop_reason;  // the stop string that ended it
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

struct ResponseMeta {
  std::string id;  // "cmpl-…" / "chatcmpl-…"
  int64_t created = 0;
  std::string model;
};

}  // namespace stride::server::openai
