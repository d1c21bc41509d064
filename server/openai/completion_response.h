// JSON for /v1/completions responses: the whole response, stream chunks and the usage chunk, in
// OpenAI's shapes. Log-probs use the completions shape (tokens, token_logprobs, top_logprobs as
// token-text -> logprob dicts, text_offset counted in characters across a choice's chunks), so
// one formatter serves one request.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "nlohmann/json.hpp"
#include "server/openai/generation_types.h"

namespace stride::server::openai {

class CompletionFormatter {
 public:
  CompletionFormatter(ResponseMeta meta, bool with_logprobs)
      : meta_(std::move(meta)), with_logprobs_(with_logprobs) {}

  // {"id","object":"text_completion","created","model","choices":[one choice]}.
  nlohmann::json Chunk(const ChoiceDelta& delta, bool with_usage_field);
  // The final chunk of stream_options.include_usage: no choices, the usage.
  nlohmann::json UsageChunk(const Usage& usage);
  // The non-streamed response. `prompt_logprobs` (vLLM's extension), when not empty, holds one
  // entry per choice (index order) and is attached to each choice.
  nlohmann::json Response(const std::vector<ChoiceDelta>& choices, const Usage& usage,
                          const std::vector<nlohmann::json>& prompt_logprobs = {});

 private:
  nlohmann::json Header() const;
  nlohmann::json ChoiceJson(const ChoiceDelta& delta);
  nlohmann::json LogprobsJson(int index, const std::vector<TokenLogprobText>& tokens);

  ResponseMeta meta_;
  bool with_logprobs_;
  std::map<int, int64_t> text_offset_;  // per choice: characters sent so far
};

nlohmann::json UsageJson(const Usage& usage);
// vLLM's prompt_logprobs: [null, {"<id>": {"logprob", "rank", "decoded_token"}}, ...].
nlohmann::json PromptLogprobsJson(const std::vector<TokenLogprobText>& tokens);
// Number of Unicode code points in UTF-8 text (what Python's len counts).
int64_t CodePointCount(const std::string& text);

}  // namespace stride::server::openai
