// The CPU reference sampler: one row of logits and its Request in, one token and its raw
// log-probs out. The CPU runner calls SampleToken once per sampling row; the CUDA sampler must
// agree with it (same token for the same seed, up to float rounding at CDF boundaries).
//
// Pipeline (vLLM v1's sampler):
//   1. raw log-probs: log-softmax of the unprocessed logits (reported, never used to sample);
//   2. logit_bias, min_tokens, repetition/frequency/presence penalties (penalties.h);
//   3. temperature < kGreedyTemperature: argmax of the processed logits, lowest id on ties;
//   4. otherwise weights = exp(x/T - max/T), then min_p, top_k, top_p, then one draw by inverting
//      the CDF in token-id order (distribution.h) at u = SamplingUniform(request.seed,
//      request.num_output_tokens()) (philox.h). The token thus depends only on the logits, the
//      request's knobs and history, its seed and its step, never on the batch.
// If processing leaves no finite logit (e.g. every token is a stop id under min_tokens), the raw
// argmax is returned rather than failing the step.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/sampling/distribution.h"
#include "engine/sampling/penalties.h"
#include "scheduler/request.h"
#include "scheduler/step_output.h"

namespace stride::engine::sampling {

// Temperatures below this (and NaN) mean greedy (vLLM's _SAMPLING_EPS).
inline constexpr float kGreedyTemperature = 1e-5f;

// Buffers reused across SampleToken calls; one per sampling thread. After the first call at a
// given vocabulary size, SampleToken allocates only the returned top-k vector.
struct SamplerScratch {
  std::vector<float> logits;   // processed logits
  std::vector<float> weights;  // unnormalized sampling probabilities
  PenaltyScratch penalties;
  TruncationScratch truncation;
};

// Whether step 2 of the pipeline applies: `request` edits its logits before temperature.
bool HasLogitsProcessors(const scheduler::Request& request);

// Step 2 of the pipeline on `logits`, in place.
void ApplyLogitsProcessors(const scheduler::Request& request, std::span<float> logits,
                           PenaltyScratch& scratch);

// Samples the request's next token from `logits` (the whole vocabulary). The result carries the
// token, its raw log-prob and the sampling.logprobs best raw log-probs (none when it is < 0).
scheduler::TokenLogprob SampleToken(std::span<const float> logits,
                                    const scheduler::Request& request, SamplerScratch& scratch);

}  // namespace stride::engine::sampling
