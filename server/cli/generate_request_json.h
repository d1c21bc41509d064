// Turns one line of a `stride generate --requests` file (or the command-line flags) into an
// engine request, and an engine result into its output JSON line.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/request.h"
#include "engine/text/tokenizer.h"
#include "nlohmann/json.hpp"

namespace stride::server::cli {

// `defaults` supplies every field the line leaves out. The prompt is `prompt_ids` /
// `prompt_token_ids` (a list of ints) or `prompt` (text, needs a tokenizer).
absl::StatusOr<engine::GenerateRequest> ParseGenerateRequest(
    const nlohmann::json& line, const engine::GenerateRequest& defaults,
    const engine::text::Tokenizer* tokenizer);

// Everything the engine produced for one sequence.
struct SequenceResult {
  std::vector<int32_t> token_ids;
  std::vector<engine::TokenLogprob> logprobs;
  engine::FinishReason finish_reason = engine::FinishReason::kNone;
  absl::Status status;
};

// The output line: prompt_token_ids, token_ids, logprobs, top_logprobs, prompt_logprobs (first
// entry null) with prompt_top_logprobs, text, finish_reason; for n > 1 also "outputs" with one object per sequence.
nlohmann::json GenerateResultJson(const engine::GenerateRequest& request,
                                  const std::vector<engine::TokenLogprob>& prompt_logprobs,
                                  const std::vector<SequenceResult>& sequences,
                                  const engine::text::Tokenizer* tokenizer);

}  // namespace stride::server::cli
