// From processed logits to a token: temperature, then vLLM's truncations (min_p, top_k, top_p, in
// that order), then one draw by inverting the CDF. Everything works on "weights", the
// unnormalized probabilities w = exp(x/T - max(x)/T), so the largest weight is exactly 1 and no
// normalization is ever needed. SampleToken (sampler.h) chains these; the CUDA top-k/top-p and
// sampling kernels are checked against them.
//
// Definitions (ties are decided on the float weights, never by sort order, so any backend can
// reproduce them with a threshold):
//   min_p: drop token i if w_i < min_p (= min_p * max weight).
//   top_k: keep token i iff fewer than k tokens have a larger weight (ties at the boundary stay,
//          as with vLLM's threshold on the k-th largest logit).
//   top_p: keep token i iff the mass of strictly heavier tokens is < top_p * total mass. This is
//          the smallest set of the heaviest tokens whose mass reaches top_p (plus boundary ties);
//          the heaviest token always stays.
//   draw:  with u in [0, 1) and W the sum of all weights, the first token id whose inclusive
//          running sum of weights, in token-id order, exceeds u * W. Sums are in double; their
//          order of addition is not part of the definition, so two backends can disagree only
//          when u * W falls within rounding (~1e-16 relative) of a step of the CDF.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace stride::engine::sampling {

// weights[i] = exp(logits[i] / temperature - max / temperature) (vector_math.h), where max is the
// largest logit. NaN weights become 0; all weights are 0 when no logit is finite. temperature > 0.
// Returns log(sum of weights) + max / temperature, i.e. LogSumExp(logits / temperature); with
// temperature 1 it equals LogSumExp(logits) bit for bit, so the sampler can reuse it for the raw
// log-probs. -inf when no logit is finite, +inf when one is +inf.
double ComputeWeights(std::span<const float> logits, float temperature, std::span<float> weights);

struct Truncation {
  int top_k = 0;       // <= 0 or >= vocab: off
  float top_p = 1.0f;  // >= 1: off
  float min_p = 0.0f;  // <= 0: off

  bool Active() const { return top_k > 0 || top_p < 1.0f || min_p > 0.0f; }
};

// Buffers reused across ApplyTopKTopPMinP calls; their contents between calls mean nothing.
struct TruncationScratch {
  std::vector<float> largest;        // the heaviest weights (top_k <= 1024, top_p's first try)
  std::vector<uint32_t> candidates;  // radix select: bit patterns in the chosen bin
  std::vector<double> histogram;     // radix select: measure per bin
};

// Zeroes the weights of the tokens that min_p, top_k and top_p drop (see above). `weights` as
// made by ComputeWeights (maximum 1). O(vocab), never a full sort. top_k's threshold comes from
// a selection of the k heaviest weights (k <= 1024) or a 3-level radix select on the weights'
// bit patterns. top_p first sorts the 256 heaviest weights, which settles it when the nucleus is
// smaller (the usual case for a language model); otherwise the radix select, by mass, decides.
void ApplyTopKTopPMinP(const Truncation& truncation, std::span<float> weights,
                       TruncationScratch& scratch);

// The token drawn by inverting the CDF at u in [0, 1) (see above); nullopt when no weight is
// positive.
std::optional<int32_t> SampleFromWeights(std::span<const float> weights, double u);

}  // namespace stride::engine::sampling
