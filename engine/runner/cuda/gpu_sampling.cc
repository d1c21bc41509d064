#include "engine/runner/cuda/gpu_sampling.h"

#include <algorithm>

#include "engine/sampling/philox.h"
#include "engine/sampling/sampler.h"

namespace stride::engine::runner::cuda {

bool GpuCanSample(const scheduler::Request& request) {
  return !sampling::HasLogitsProcessors(request) &&
         request.sampling.logprobs <= kernels::kMaxGpuTopLogprobs;
}

kernels::SampleRowParams SampleRowFor(const scheduler::Request& request, int output_index) {
  const scheduler::SamplingParams& s = request.sampling;
  kernels::SampleRowParams row;
  row.num_top = std::max(0, s.logprobs);
  if (!(s.temperature >= sampling::kGreedyTemperature)) {
    row.mode = kernels::kSampleGreedy;
    return row;
  }
  row.mode = kernels::kSampleRandom;
  row.temperature = s.temperature;
  row.top_k = s.top_k;
  row.top_p = s.top_p;
  row.min_p = s.min_p;
  row.uniform =
      sampling::SamplingUniform(request.seed, static_cast<uint64_t>(output_index));
  return row;
}

kernels::SampleRowParams ScoreRowFor(int32_t token, int num_top) {
  kernels::SampleRowParams row;
  row.mode = kernels::kSampleScore;
  row.token = token;
  row.num_top = std::max(0, num_top);
  return row;
}

scheduler::TokenLogprob ToTokenLogprob(const kernels::SampledToken& sampled, int num_top) {
  scheduler::TokenLogprob out;
  out.token_id = sampled.token;
  out.logprob = sampled.logprob;
  const int k = std::min(num_top, kernels::kMaxGpuTopLogprobs);
  for (int i = 0; i < k && sampled.top_ids[i] >= 0; ++i) {
    out.top.emplace_back(sampled.top_ids[i], sampled.top_logprobs[i]);
  }
  return out;
}

}  // namespace stride::engine::runner::cuda
