// What front ends hand the engine (GenerateRequest) and what they get back (RequestOutput
// deltas on a RequestStream). Token ids only: text lives in engine/text and the front ends.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "scheduler/request.h"
#include "scheduler/step_output.h"

namespace stride::engine {

using scheduler::FinishReason;
using scheduler::SamplingParams;
using scheduler::TokenLogprob;

struct GenerateRequest {
  std::vector<int32_t> prompt_token_ids;
  SamplingParams sampling;
  int priority = 0;  // lower runs first under the priority policy
};

// One delta of one of the request's n sequences. Deltas of a sequence arrive in order; the last
// one has finish_reason != kNone.
struct RequestOutput {
  int index = 0;                         // which of the n sequences
  std::vector<int32_t> token_ids;        // newly generated
  std::vector<TokenLogprob> logprobs;    // one per new token when sampling.logprobs >= 0
  // Prompt log-probs of positions 1.. (position 0 has none), in order, each delivered once; all
  // of them arrive before the first generated token.
  std::vector<TokenLogprob> prompt_logprobs;
  FinishReason finish_reason = FinishReason::kNone;
  absl::Status status;  // not OK with finish_reason kError (e.g. a prompt that can never fit)
  int num_prompt_tokens = 0;
  int num_cached_tokens = 0;  // prompt tokens served from the prefix cache (set when finished)
};

inline const char* FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kNone: return "";
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kAbort: return "abort";
    case FinishReason::kError: return "error";
  }
  return "";
}

}  // namespace stride::engine
