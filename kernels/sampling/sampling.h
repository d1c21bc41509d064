// The GPU sampler: one CTA per row of fp32 logits turns the row into a token and its raw
// log-probs, so only a few bytes per row leave the device. It reproduces the CPU reference
// (engine/sampling/sampler.h) for rows without logit processors:
//   raw log-probs: LSE = max + log(sum exp(x - max)) (double sum), log-prob = x - LSE, and the
//     num_top best (larger value first, lower id on ties, NaN as -inf);
//   greedy: argmax, lowest id on ties, NaN ignored;
//   random: weights w = exp(x / T - max / T) with the CPU's own exp polynomial (bit-identical,
//     no FMA contraction), then min_p, top_k, top_p as thresholds on the float weights (radix
//     selects over the weights' bit patterns, 12/10/10 bits, like the CPU), then the CDF drawn in
//     token-id order at the host-computed Philox uniform. Sums are in double in another order
//     than the CPU's, so a token can differ only when u * W falls within rounding of a CDF step
//     (or top_p's target of a mass boundary).
// Logit bias, min_tokens and penalties are not applied here: the runner samples such rows on
// the host.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace stride::kernels {

inline constexpr int kMaxGpuTopLogprobs = 20;

enum SampleMode : int32_t {
  kSampleGreedy = 0,
  kSampleRandom = 1,
  kSampleScore = 2,  // no sampling: report `token`'s raw log-prob (prompt log-probs)
};

// Per-row knobs (48 bytes, 8-aligned so arrays of it pack in the runner's metadata).
struct SampleRowParams {
  double uniform = 0.0;  // kSampleRandom: SamplingUniform(seed, step), in [0, 1)
  int32_t mode = kSampleGreedy;
  int32_t token = 0;  // kSampleScore: the token whose log-prob is reported
  float temperature = 1.0f;
  float top_p = 1.0f;  // >= 1: off
  float min_p = 0.0f;  // <= 0: off
  int32_t top_k = 0;   // <= 0 or >= vocab: off
  int32_t num_top = 0;  // best raw log-probs to report, 0..kMaxGpuTopLogprobs
  int32_t unused = 0;
};

// Per-row result (168 bytes).
struct SampledToken {
  int32_t token;
  float logprob;  // raw log-prob of `token`
  int32_t top_ids[kMaxGpuTopLogprobs];
  float top_logprobs[kMaxGpuTopLogprobs];
};

struct SampleParams {
  const float* logits = nullptr;  // [rows, vocab]
  const SampleRowParams* rows_params = nullptr;  // [rows]
  SampledToken* out = nullptr;    // [rows]
  int rows = 0;
  int vocab = 0;
};

cudaError_t LaunchSample(const SampleParams& p, cudaStream_t stream);

}  // namespace stride::kernels
