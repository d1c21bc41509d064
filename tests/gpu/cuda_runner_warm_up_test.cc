// The CUDA runner warms every cuBLASLt shape a step can use when it starts with the scheduler's
// limits (gemm_warm_up.cc): a shape's first call waits for the device to drain, which under
// asynchronous scheduling delays the step in flight. Requests of many lengths, decoding in
// batches of every size up to the limit and prefilled in chunks of every size up to the budget,
// then plan nothing new. Without limits the runner plans shapes as steps meet them, which shows
// that the count sees a step's plans.
#include <memory>
#include <vector>

#include "engine/engine.h"
#include "engine/model/model_config.h"
#include "engine/model/weights.h"
#include "engine/runner/cuda/cuda_model_runner.h"
#include "engine/runner/kv_cache_spec.h"
#include "gtest/gtest.h"
#include "tests/integration/golden_fixture.h"

namespace stride::testing {
namespace {

using engine::runner::cuda::CudaGemmPlanCounts;
using engine::runner::cuda::CudaGemmPlans;

constexpr int kMaxSeqs = 8;
constexpr int kBudget = 160;  // GEMM row buckets 16, 32, ..., 160

// Prompts of 1..130 tokens, some sampled, some greedy, 6-20 new tokens each.
std::vector<engine::GenerateRequest> ManyShapes(int vocab) {
  std::vector<engine::GenerateRequest> requests;
  int i = 0;
  for (int len : {1, 3, 7, 16, 17, 40, 64, 90, 130, 33, 5, 120}) {
    engine::GenerateRequest r;
    for (int t = 0; t < len; ++t) r.prompt_token_ids.push_back(3 + (t * 131 + len) % (vocab - 3));
    r.sampling.temperature = i % 2 == 0 ? 0.0f : 0.8f;
    r.sampling.seed = i;
    r.sampling.max_tokens = 6 + (i * 5) % 15;
    r.sampling.ignore_eos = true;
    r.sampling.logprobs = 2;
    requests.push_back(std::move(r));
    ++i;
  }
  return requests;
}

// Runs ManyShapes on a bf16 runner, given the limits or not; the plan counts before and after.
std::pair<CudaGemmPlans, CudaGemmPlans> PlansAroundARun(bool limits_given) {
  auto config = engine::model::LoadModelConfig(FixtureDir("llama-gqa-llama3rope"));
  EXPECT_TRUE(config.ok()) << config.status();
  auto weights = engine::model::LoadModelWeights(*config, "", engine::model::LoadFormat::kDummy,
                                                 /*seed=*/7);
  EXPECT_TRUE(weights.ok()) << weights.status();
  engine::EngineConfig engine_config;
  engine_config.scheduler.max_num_batched_tokens = kBudget;
  engine_config.scheduler.max_num_seqs = kMaxSeqs;
  engine_config.scheduler.max_model_len = config->max_position_embeddings;
  engine_config.kv_cache = engine::runner::BuildKvCacheConfig(*config, 16, 1 + 12 * 10, true);

  engine::runner::cuda::CudaRunnerOptions options;
  if (limits_given) {
    options.max_num_seqs = kMaxSeqs;
    options.max_num_batched_tokens = kBudget;
  }
  auto runner = engine::runner::cuda::CreateCudaModelRunner(*config, *weights,
                                                            engine_config.kv_cache, options);
  EXPECT_TRUE(runner.ok()) << runner.status();
  const engine::runner::ModelRunner* raw = runner->get();
  const CudaGemmPlans before = CudaGemmPlanCounts(*raw);
  auto engine = engine::Engine::Create(engine_config, *config, std::move(*runner));
  EXPECT_TRUE(engine.ok()) << engine.status();
  const std::vector<Generation> out = RunAll(**engine, ManyShapes(config->vocab_size));
  EXPECT_EQ(out.size(), 12u);
  return {before, CudaGemmPlanCounts(*raw)};
}

TEST(CudaRunnerWarmUp, NoStepPlansAGemmShapeAfterStart) {
  const auto [before, after] = PlansAroundARun(/*limits_given=*/true);
  // Four projections at each of the ten row buckets, and the logits' one (8 rows: bucket 16).
  EXPECT_GE(before.at_start, 4 * 10 + 1);
  EXPECT_EQ(before.total, before.at_start);
  EXPECT_EQ(after.total, before.at_start) << "a step planned a GEMM shape the warm-up missed";
}

TEST(CudaRunnerWarmUp, WithoutLimitsStepsPlanTheirShapes) {
  const auto [before, after] = PlansAroundARun(/*limits_given=*/false);
  EXPECT_EQ(before.total, 0);
  EXPECT_GT(after.total, 4) << "the plan count does not see a step's GEMMs";
}

}  // namespace
}  // namespace stride::testing
