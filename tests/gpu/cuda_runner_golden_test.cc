// The CUDA runner inside a real Engine against the HuggingFace goldens of the tiny fixtures
// (llama3 RoPE + GQA, Mistral sliding window, Qwen2 bias + tied embeddings, Qwen3 q/k norm):
// prompt log-probs and greedy log-probs within 0.05 of transformers' fp32, greedy tokens equal
// wherever the golden's top-2 gap exceeds 0.05 (bf16 noise can swap closer calls, after which the
// continuations legitimately part). Each prompt alone, then all ten at once with a small token
// budget (chunked prefill mixed with decodes), with and without CUDA graphs.
#include <algorithm>
#include <cmath>

#include "engine/engine.h"
#include "engine/model/model_config.h"
#include "engine/model/weights.h"
#include "engine/runner/cuda/cuda_model_runner.h"
#include "engine/runner/kv_cache_spec.h"
#include "gtest/gtest.h"
#include "tests/integration/golden_fixture.h"

namespace stride::testing {
namespace {

constexpr double kLogprobTolerance = 0.05;
constexpr double kGapForExactTokens = 0.05;

struct Param {
  std::string fixture;
  bool cuda_graphs;
};

std::unique_ptr<engine::Engine> MakeCudaEngine(const std::string& fixture, bool cuda_graphs,
                                               int token_budget) {
  auto config = engine::model::LoadModelConfig(FixtureDir(fixture));
  EXPECT_TRUE(config.ok()) << config.status();
  auto weights = engine::model::LoadModelWeights(*config, FixtureDir(fixture),
                                                 engine::model::LoadFormat::kAuto);
  EXPECT_TRUE(weights.ok()) << weights.status();
  engine::EngineConfig engine_config;
  engine_config.scheduler.max_num_batched_tokens = token_budget;
  engine_config.scheduler.max_num_seqs = 16;
  engine_config.scheduler.max_model_len = config->max_position_embeddings;
  engine_config.kv_cache = engine::runner::BuildKvCacheConfig(*config, 16, 1 + 16 * 64, true);
  engine::runner::cuda::CudaRunnerOptions options;
  options.enable_cuda_graphs = cuda_graphs;
  auto runner = engine::runner::cuda::CreateCudaModelRunner(*config, *weights,
                                                            engine_config.kv_cache, options);
  EXPECT_TRUE(runner.ok()) << runner.status();
  auto engine = engine::Engine::Create(engine_config, *config, std::move(*runner));
  EXPECT_TRUE(engine.ok()) << engine.status();
  return std::move(*engine);
}

// Returns the number of greedy steps compared exactly.
int ExpectNearGolden(const GoldenPrompt& golden, const Generation& got, const std::string& what) {
  const size_t n = golden.prompt_token_ids.size();
  EXPECT_EQ(got.prompt_logprobs.size(), n - 1) << what;
  for (size_t i = 1; i < n && i - 1 < got.prompt_logprobs.size(); ++i) {
    EXPECT_EQ(got.prompt_logprobs[i - 1].token_id, golden.prompt_token_ids[i]) << what;
    EXPECT_NEAR(got.prompt_logprobs[i - 1].logprob, golden.prompt_logprobs[i], kLogprobTolerance)
        << what << " prompt position " << i;
  }
  EXPECT_EQ(got.token_ids.size(), golden.greedy.size()) << what;
  int compared = 0;
  for (size_t s = 0; s < golden.greedy.size() && s < got.token_ids.size(); ++s) {
    const GreedyStep& step = golden.greedy[s];
    EXPECT_NEAR(got.logprobs[s].logprob, step.logprob, kLogprobTolerance) << what << " step " << s;
    if (step.top2_gap <= kGapForExactTokens) break;  // a near tie: continuations may part here
    EXPECT_EQ(got.token_ids[s], step.token_id) << what << " greedy step " << s;
    ++compared;
    if (got.token_ids[s] != step.token_id) break;
  }
  return compared;
}

class CudaRunnerGoldenTest : public ::testing::TestWithParam<Param> {};

TEST_P(CudaRunnerGoldenTest, EachPromptAlone) {
  std::vector<GoldenPrompt> goldens = LoadGoldens(GetParam().fixture);
  ASSERT_EQ(goldens.size(), 10u);
  auto engine = MakeCudaEngine(GetParam().fixture, GetParam().cuda_graphs, 2048);
  ASSERT_NE(engine, nullptr);
  int compared = 0;
  for (const GoldenPrompt& golden : goldens) {
    std::vector<Generation> got = RunAll(*engine, {GreedyRequest(golden)});
    compared += ExpectNearGolden(golden, got[0], GetParam().fixture + " prompt length " +
                                                     std::to_string(golden.prompt_token_ids.size()));
  }
  EXPECT_GT(compared, 50) << "too few greedy steps were compared to mean anything";
}

TEST_P(CudaRunnerGoldenTest, AllPromptsBatchedWithChunkedPrefill) {
  std::vector<GoldenPrompt> goldens = LoadGoldens(GetParam().fixture);
  auto engine = MakeCudaEngine(GetParam().fixture, GetParam().cuda_graphs, 64);
  ASSERT_NE(engine, nullptr);
  std::vector<engine::GenerateRequest> requests;
  for (const GoldenPrompt& golden : goldens) requests.push_back(GreedyRequest(golden));
  std::vector<Generation> got = RunAll(*engine, requests);
  int compared = 0;
  for (size_t i = 0; i < goldens.size(); ++i) {
    compared += ExpectNearGolden(goldens[i], got[i], GetParam().fixture + " batched prompt " +
                                                         std::to_string(i));
  }
  EXPECT_GT(compared, 50);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, CudaRunnerGoldenTest,
    ::testing::Values(Param{"llama-gqa-llama3rope", true}, Param{"mistral-sliding", true},
                      Param{"qwen2-bias-tied", true}, Param{"qwen3-qknorm", true},
                      Param{"llama-gqa-llama3rope", false}, Param{"mistral-sliding", false}),
    [](const auto& info) {
      std::string name = info.param.fixture + (info.param.cuda_graphs ? "_graphs" : "_eager");
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      return name;
    });

}  // namespace
}  // namespace stride::testing
