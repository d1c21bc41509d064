// The logit processors that run before temperature and can change the greedy choice, in vLLM's
// order: logit_bias, min_tokens, then the repetition, frequency and presence penalties. Each
// edits one row of logits in place; SampleToken (sampler.h) calls them, and the CUDA penalty
// kernel is checked against ApplyPenalties.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "scheduler/request.h"

namespace stride::engine::sampling {

// logits[id] += bias for each (id, bias). Ids outside the vocabulary are skipped: the front end
// rejects them, and a stray one must not corrupt memory.
void ApplyLogitBias(std::span<const std::pair<int32_t, float>> logit_bias, std::span<float> logits);

// While the request has produced fewer than sampling.min_tokens tokens, its EOS ids and
// stop_token_ids get -inf. As in vLLM, EOS ids are masked even with ignore_eos (vLLM keeps them
// in all_stop_token_ids); ignore_eos only affects stopping, which is the scheduler's business.
void ApplyMinTokens(const scheduler::Request& request, std::span<float> logits);

struct Penalties {
  float repetition = 1.0f;  // 1: off
  float frequency = 0.0f;   // 0: off
  float presence = 0.0f;    // 0: off

  bool Active() const { return repetition != 1.0f || frequency != 0.0f || presence != 0.0f; }
};

// Reusable per-vocabulary buffers. Kept all-zero between calls, so a call costs O(tokens), not
// O(vocab).
class PenaltyScratch {
 public:
  // Output-token counts and prompt/output presence, resized to `vocab_size` on first use.
  std::vector<int32_t>& Counts(size_t vocab_size);
  std::vector<uint8_t>& Seen(size_t vocab_size);
  std::vector<int32_t>& Touched() { return touched_; }

 private:
  std::vector<int32_t> counts_;
  std::vector<uint8_t> seen_;
  std::vector<int32_t> touched_;
};

// vLLM's penalties, in float, in this order:
//   repetition, for every distinct token of prompt or output: x > 0 ? x / r : x * r
//   frequency, for output tokens:  x -= frequency * count
//   presence, for output tokens:   x -= presence
// Token ids outside the vocabulary are skipped.
void ApplyPenalties(const Penalties& penalties, std::span<const int32_t> prompt_token_ids,
                    std::span<const int32_t> output_token_ids, std::span<float> logits,
                    PenaltyScratch& scratch);

}  // namespace stride::engine::sampling
