// Which sampling rows the GPU sampler (kernels/sampling) handles, and their per-row knobs. Rows
// whose request edits its logits (logit_bias, active min_tokens, penalties) or asks for more
// than kMaxGpuTopLogprobs log-probs are sampled on the host by the CPU sampler instead.
#pragma once

#include "kernels/sampling/sampling.h"
#include "scheduler/request.h"
#include "scheduler/step_output.h"

namespace stride::engine::runner::cuda {

// True when the GPU sampler reproduces sampling::SampleToken for `request`'s next token.
bool GpuCanSample(const scheduler::Request& request);

// The knobs for sampling output number `output_index` of `request` (GpuCanSample must hold):
// greedy below sampling::kGreedyTemperature (and for NaN), else the random path with the
// request's Philox uniform for that step. The index is num_output_tokens(), or one more when
// the step's input token is still being sampled (asynchronous scheduling).
kernels::SampleRowParams SampleRowFor(const scheduler::Request& request, int output_index);

// The knobs for reporting the raw log-prob of `token` and the `num_top` best (prompt log-probs;
// num_top <= kMaxGpuTopLogprobs).
kernels::SampleRowParams ScoreRowFor(int32_t token, int num_top);

// The GPU result as the runner reports it (top list cut to `num_top`, none when < 0).
scheduler::TokenLogprob ToTokenLogprob(const kernels::SampledToken& sampled, int num_top);

}  // namespace stride::engine::runner::cuda
