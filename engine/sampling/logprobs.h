// Raw log-probabilities of one row of logits, as reported to users (vLLM's default
// `raw_logprobs`: the log-softmax of the logits before any sampling knob). The CPU sampler calls
// these for every sampled row and for prompt log-probs; the CUDA log-softmax and top-k kernels
// are checked against them.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "scheduler/step_output.h"

namespace stride::engine::sampling {

// log(sum_i exp(logits[i])), computed as max + log(sum exp(x - max)) with a double accumulator.
// NaN logits count as -inf; -inf when every logit is -inf (or the row is empty).
double LogSumExp(std::span<const float> logits);

// out[i] = in[i] - LogSumExp(in). `out` must have in.size() elements; it may alias `in`.
void LogSoftmax(std::span<const float> in, std::span<float> out);

// The k largest values as (index, value), best first; equal values rank the lower index first.
// NaN ranks like -inf. k is clamped to [0, values.size()].
std::vector<std::pair<int32_t, float>> TopK(std::span<const float> values, int k);

// The raw log-prob of `token_id` under `logits` and the `num_top` best raw log-probs (none when
// num_top <= 0). Used for the sampled token and for prompt log-probs. token_id must be in range.
scheduler::TokenLogprob RawTokenLogprob(std::span<const float> logits, int32_t token_id,
                                        int num_top);

// The same with LogSumExp(logits) already known (the sampler gets it from ComputeWeights).
scheduler::TokenLogprob RawTokenLogprob(std::span<const float> logits, int32_t token_id,
                                        int num_top, double log_sum_exp);

}  // namespace stride::engine::sampling
