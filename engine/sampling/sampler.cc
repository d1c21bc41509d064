#include "engine/sampling/sampler.h"

#include <cmath>
#include <limits>

#include "base/check.h"
#include "engine/sampling/logprobs.h"
#include "engine/sampling/philox.h"
#include "engine/sampling/vector_math.h"

namespace stride::engine::sampling {
namespace {

Penalties PenaltiesOf(const scheduler::SamplingParams& sampling) {
  return {.repetition = sampling.repetition_penalty,
          .frequency = sampling.frequency_penalty,
          .presence = sampling.presence_penalty};
}

bool MinTokensActive(const scheduler::Request& request) {
  return request.num_output_tokens() < request.sampling.min_tokens &&
         !(request.eos_token_ids.empty() && request.sampling.stop_token_ids.empty());
}

}  // namespace

bool HasLogitsProcessors(const scheduler::Request& request) {
  return !request.sampling.logit_bias.empty() || MinTokensActive(request) ||
         PenaltiesOf(request.sampling).Active();
}

void ApplyLogitsProcessors(const scheduler::Request& request, std::span<float> logits,
                           PenaltyScratch& scratch) {
  ApplyLogitBias(request.sampling.logit_bias, logits);
  ApplyMinTokens(request, logits);
  const Penalties penalties = PenaltiesOf(request.sampling);
  if (!penalties.Active()) return;
  const std::span<const int32_t> tokens(request.token_ids);
  ApplyPenalties(penalties, tokens.first(request.num_prompt_tokens),
                 tokens.subspan(request.num_prompt_tokens), logits, scratch);
}

scheduler::TokenLogprob SampleToken(std::span<const float> logits,
                                    const scheduler::Request& request, SamplerScratch& scratch) {
  STRIDE_CHECK(!logits.empty());
  STRIDE_CHECK(request.num_prompt_tokens >= 0 && request.num_prompt_tokens <= request.num_tokens())
      << "request " << request.id << " has " << request.num_prompt_tokens << " prompt tokens of "
      << request.num_tokens();
  const scheduler::SamplingParams& sampling = request.sampling;

  std::span<const float> processed = logits;
  if (HasLogitsProcessors(request)) {
    scratch.logits.assign(logits.begin(), logits.end());
    ApplyLogitsProcessors(request, scratch.logits, scratch.penalties);
    processed = scratch.logits;
  }

  std::optional<int32_t> token;
  std::optional<double> raw_log_sum_exp;
  // Negative or NaN temperatures (which validation should have refused) also mean greedy.
  if (!(sampling.temperature >= kGreedyTemperature)) {
    token = ArgMax(processed);
  } else {
    scratch.weights.resize(logits.size());
    const double log_sum_exp = ComputeWeights(processed, sampling.temperature, scratch.weights);
    // Unprocessed logits at temperature 1 (the default): the weights are the raw exps.
    if (processed.data() == logits.data() && sampling.temperature == 1.0f) {
      raw_log_sum_exp = log_sum_exp;
    }
    ApplyTopKTopPMinP({.top_k = sampling.top_k, .top_p = sampling.top_p, .min_p = sampling.min_p},
                      scratch.weights, scratch.truncation);
    const double u =
        SamplingUniform(request.seed, static_cast<uint64_t>(request.num_output_tokens()));
    token = SampleFromWeights(scratch.weights, u);
    // No positive weight: a +inf logit (the argmax is right) or nothing finite (handled below).
    if (!token) token = ArgMax(processed);
  }
  if (!(processed[*token] > -std::numeric_limits<float>::infinity())) token = ArgMax(logits);

  return RawTokenLogprob(logits, *token, sampling.logprobs,
                         raw_log_sum_exp ? *raw_log_sum_exp : LogSumExp(logits));
}

}  // namespace stride::engine::sampling
