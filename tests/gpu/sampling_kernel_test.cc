// The GPU sampler (kernels/sampling) against the CPU sampler (engine/sampling) on fresh random
// logits: greedy tokens and raw log-probs must agree on every row; seeded random draws must give
// the same token except where u * W falls within rounding of a CDF step, which is counted and
// bounded (the weights are bit-identical, only double sums differ in order).
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "engine/runner/cuda/gpu_sampling.h"
#include "engine/sampling/logprobs.h"
#include "engine/sampling/sampler.h"
#include "gtest/gtest.h"
#include "kernels/sampling/sampling.h"
#include "tests/gpu/gpu_test_util.h"

namespace stride::testing::gpu {
namespace {

using engine::runner::cuda::SampleRowFor;
using engine::runner::cuda::ScoreRowFor;
using scheduler::Request;
using scheduler::TokenLogprob;

constexpr float kInf = std::numeric_limits<float>::infinity();

// Logits like a language model's (normal, scale varying by row), some rows rounded to bf16 so
// that ties occur, a few -inf and NaN entries.
std::vector<float> RandomLogits(int rows, int vocab, std::mt19937& rng) {
  std::vector<float> logits(static_cast<size_t>(rows) * vocab);
  for (int r = 0; r < rows; ++r) {
    const float scale = std::uniform_real_distribution<float>(0.5f, 6.0f)(rng);
    std::normal_distribution<float> dist(0.0f, scale);
    const bool ties = r % 3 == 0;
    float* row = logits.data() + static_cast<size_t>(r) * vocab;
    for (int i = 0; i < vocab; ++i) {
      row[i] = dist(rng);
      if (ties) row[i] = __bfloat162float(__float2bfloat16(row[i]));
    }
    if (r % 5 == 1) {
      for (int j = 0; j < 20; ++j) row[rng() % vocab] = -kInf;
      row[rng() % vocab] = std::numeric_limits<float>::quiet_NaN();
    }
    if (r % 7 == 2) {  // a tie at the top
      const int a = rng() % vocab, b = rng() % vocab;
      row[a] = row[b] = 40.0f;
    }
  }
  return logits;
}

std::vector<kernels::SampledToken> RunSampler(const std::vector<float>& logits, int vocab,
                                              const std::vector<kernels::SampleRowParams>& rows) {
  DeviceArray<float> d_logits(logits);
  DeviceArray<kernels::SampleRowParams> d_rows(rows);
  DeviceArray<kernels::SampledToken> d_out(rows.size());
  d_out.Poison();
  kernels::SampleParams p;
  p.logits = d_logits.get();
  p.rows_params = d_rows.get();
  p.out = d_out.get();
  p.rows = static_cast<int>(rows.size());
  p.vocab = vocab;
  GPU_CHECK(kernels::LaunchSample(p, nullptr));
  GPU_CHECK(cudaDeviceSynchronize());
  return d_out.Download();
}

void ExpectSameLogprobs(const TokenLogprob& cpu, const kernels::SampledToken& gpu, int num_top,
                        const std::string& where) {
  const TokenLogprob g = engine::runner::cuda::ToTokenLogprob(gpu, num_top);
  ASSERT_EQ(g.token_id, cpu.token_id) << where;
  if (std::isfinite(cpu.logprob)) {
    EXPECT_NEAR(g.logprob, cpu.logprob, 1e-5 * std::max(1.0f, std::abs(cpu.logprob))) << where;
  } else {
    EXPECT_EQ(g.logprob, cpu.logprob) << where;
  }
  ASSERT_EQ(g.top.size(), cpu.top.size()) << where;
  for (size_t i = 0; i < cpu.top.size(); ++i) {
    EXPECT_EQ(g.top[i].first, cpu.top[i].first) << where << " top " << i;
    EXPECT_NEAR(g.top[i].second, cpu.top[i].second, 1e-5 * std::max(1.0f, std::abs(cpu.top[i].second)))
        << where << " top " << i;
  }
}

Request MakeRequest(std::mt19937& rng, int vocab) {
  Request r;
  const int prompt = 1 + rng() % 8, output = rng() % 50;
  for (int i = 0; i < prompt + output; ++i) r.token_ids.push_back(rng() % vocab);
  r.num_prompt_tokens = prompt;
  r.seed = (static_cast<uint64_t>(rng()) << 32) | rng();
  return r;
}

TEST(SamplingKernel, GreedyAndRawLogprobsMatchCpu) {
  for (int vocab : {128256, 32000, 1001}) {
    std::mt19937 rng(FreshSeed());
    const int rows = 48;
    const std::vector<float> logits = RandomLogits(rows, vocab, rng);
    std::vector<Request> requests;
    std::vector<kernels::SampleRowParams> params;
    for (int r = 0; r < rows; ++r) {
      requests.push_back(MakeRequest(rng, vocab));
      requests.back().sampling.temperature = 0.0f;
      requests.back().sampling.logprobs = r % 4 == 0 ? -1 : r % 21;
      params.push_back(SampleRowFor(requests.back(), requests.back().num_output_tokens()));
    }
    const auto out = RunSampler(logits, vocab, params);
    engine::sampling::SamplerScratch scratch;
    for (int r = 0; r < rows; ++r) {
      std::span<const float> row(logits.data() + static_cast<size_t>(r) * vocab, vocab);
      const TokenLogprob cpu = engine::sampling::SampleToken(row, requests[r], scratch);
      ExpectSameLogprobs(cpu, out[r], requests[r].sampling.logprobs,
                         "vocab " + std::to_string(vocab) + " row " + std::to_string(r));
    }
  }
}

TEST(SamplingKernel, ScoreRowsMatchRawTokenLogprob) {
  const int vocab = 128256, rows = 24;
  std::mt19937 rng(FreshSeed());
  const std::vector<float> logits = RandomLogits(rows, vocab, rng);
  std::vector<kernels::SampleRowParams> params;
  std::vector<int> tokens, tops;
  for (int r = 0; r < rows; ++r) {
    tokens.push_back(rng() % vocab);
    tops.push_back(r % 21);
    params.push_back(ScoreRowFor(tokens.back(), tops.back()));
  }
  const auto out = RunSampler(logits, vocab, params);
  for (int r = 0; r < rows; ++r) {
    std::span<const float> row(logits.data() + static_cast<size_t>(r) * vocab, vocab);
    ExpectSameLogprobs(engine::sampling::RawTokenLogprob(row, tokens[r], tops[r]), out[r], tops[r],
                       "row " + std::to_string(r));
  }
}

TEST(SamplingKernel, SeededDrawsMatchCpuUpToRounding) {
  struct Knobs {
    float temperature, top_p, min_p;
    int top_k;
  };
  const std::vector<Knobs> knobs = {
      {1.0f, 1.0f, 0.0f, 0},    {0.7f, 1.0f, 0.0f, 0},    {1.3f, 0.9f, 0.0f, 0},
      {1.0f, 1.0f, 0.0f, 50},   {0.8f, 0.95f, 0.0f, 40},  {1.0f, 1.0f, 0.05f, 0},
      {1.0f, 0.5f, 0.02f, 1000}, {2.0f, 1.0f, 0.0f, 3000}, {1.0f, 0.3f, 0.0f, 1},
      {0.5f, 0.99f, 0.0f, 2},
  };
  int compared = 0, mismatches = 0;
  for (int vocab : {128256, 4099}) {
    std::mt19937 rng(FreshSeed());
    const int rows = vocab > 100000 ? 400 : 1200;
    const std::vector<float> logits = RandomLogits(rows, vocab, rng);
    std::vector<Request> requests;
    std::vector<kernels::SampleRowParams> params;
    for (int r = 0; r < rows; ++r) {
      requests.push_back(MakeRequest(rng, vocab));
      const Knobs& k = knobs[r % knobs.size()];
      auto& s = requests.back().sampling;
      s.temperature = k.temperature;
      s.top_p = k.top_p;
      s.min_p = k.min_p;
      s.top_k = k.top_k;
      s.logprobs = r % 3 == 0 ? 5 : -1;
      ASSERT_TRUE(engine::runner::cuda::GpuCanSample(requests.back()));
      params.push_back(SampleRowFor(requests.back(), requests.back().num_output_tokens()));
    }
    const auto out = RunSampler(logits, vocab, params);
    engine::sampling::SamplerScratch scratch;
    std::vector<int> histogram(vocab, 0);
    for (int r = 0; r < rows; ++r) {
      std::span<const float> row(logits.data() + static_cast<size_t>(r) * vocab, vocab);
      const TokenLogprob cpu = engine::sampling::SampleToken(row, requests[r], scratch);
      ++compared;
      ASSERT_GE(out[r].token, 0);
      ASSERT_LT(out[r].token, vocab);
      if (out[r].token != cpu.token_id) {
        ++mismatches;
        std::printf("draw mismatch: vocab %d row %d knobs %zu: cpu %d gpu %d\n", vocab, r,
                    r % knobs.size(), cpu.token_id, out[r].token);
        continue;
      }
      ExpectSameLogprobs(cpu, out[r], requests[r].sampling.logprobs,
                         "vocab " + std::to_string(vocab) + " row " + std::to_string(r));
    }
  }
  std::printf("seeded draws: %d of %d rows differ from the CPU sampler\n", mismatches, compared);
  // A difference needs u * W within ~1e-16 relative of a CDF step: expect none; allow one.
  EXPECT_LE(mismatches, 1) << "of " << compared;
}

}  // namespace
}  // namespace stride::testing::gpu
