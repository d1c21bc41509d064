// What the runner computed for one step: the runner's only output, read by
// Scheduler::Update (token ids) and by the engine (log-probs for the output streams).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "scheduler/request.h"

namespace stride::scheduler {

struct TokenLogprob {
  int32_t token_id = 0;
  float logprob = 0.0f;
  // The k most likely tokens (k = the request's logprobs / prompt_logprobs), best first.
  std::vector<std::pair<int32_t, float>> top;
};

// One entry per ScheduledChunk, in the same order.
struct ChunkOutput {
  RequestId request_id = 0;
  bool sampled = false;
  // Valid when sampled. Log-probs are of the raw model distribution (log-softmax of the
  // logits before temperature, penalties or truncation), as vLLM and OpenAI report them.
  TokenLogprob next_token;
  // With prompt_logprobs: for each position p in the chunk with p + 1 < num_prompt_tokens, the
  // log-prob of prompt token p + 1 given tokens [0, p]. Empty otherwise.
  std::vector<TokenLogprob> prompt_logprobs;
};

struct StepOutput {
  std::vector<ChunkOutput> chunks;
};

}  // namespace stride::scheduler
