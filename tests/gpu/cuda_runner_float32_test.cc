// The CUDA runner's float32 mode on shapes the bf16 kernels do not take: head_dim 80 and 256
// (the fixtures' llama config with head_dim changed, dummy weights), against the fp32 CPU engine
// on the same weights. bf16 rejects the shape with a clear error; float32 runs it and agrees with
// the CPU: prompt log-probs within 1e-3, greedy tokens equal up to the first near tie.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/model/model_config.h"
#include "engine/model/weights.h"
#include "engine/runner/cpu/cpu_model_runner.h"
#include "engine/runner/cuda/cuda_model_runner.h"
#include "engine/runner/kv_cache_spec.h"
#include "gtest/gtest.h"
#include "tests/integration/golden_fixture.h"

namespace stride::testing {
namespace {

engine::EngineConfig SmallEngineConfig(const engine::model::ModelConfig& config) {
  engine::EngineConfig engine_config;
  engine_config.scheduler.max_num_batched_tokens = 48;  // chunked prefill with decodes mixed in
  engine_config.scheduler.max_num_seqs = 8;
  engine_config.scheduler.max_model_len = config.max_position_embeddings;
  engine_config.kv_cache = engine::runner::BuildKvCacheConfig(config, 16, 1 + 8 * 16, true);
  return engine_config;
}

std::vector<engine::GenerateRequest> Requests(int vocab) {
  std::vector<engine::GenerateRequest> requests;
  for (int len : {1, 7, 40, 130}) {
    engine::GenerateRequest r;
    for (int i = 0; i < len; ++i) r.prompt_token_ids.push_back(3 + (i * 131 + len) % (vocab - 3));
    r.sampling.temperature = 0;
    r.sampling.max_tokens = 12;
    r.sampling.ignore_eos = true;
    r.sampling.logprobs = 2;
    r.sampling.prompt_logprobs = 0;
    requests.push_back(std::move(r));
  }
  return requests;
}

TEST(CudaRunnerFloat32, HeadDimsTheBf16KernelsLack) {
  for (int head_dim : {80, 256}) {
    auto config = engine::model::LoadModelConfig(FixtureDir("llama-gqa-llama3rope"));
    ASSERT_TRUE(config.ok()) << config.status();
    config->head_dim = head_dim;
    auto weights = engine::model::LoadModelWeights(*config, "", engine::model::LoadFormat::kDummy,
                                                   /*seed=*/head_dim);
    ASSERT_TRUE(weights.ok()) << weights.status();
    const engine::EngineConfig engine_config = SmallEngineConfig(*config);

    engine::runner::cuda::CudaRunnerOptions bf16;
    auto rejected = engine::runner::cuda::CreateCudaModelRunner(*config, *weights,
                                                                engine_config.kv_cache, bf16);
    EXPECT_EQ(rejected.status().code(), absl::StatusCode::kUnimplemented) << head_dim;
    EXPECT_NE(rejected.status().message().find("float32"), std::string::npos) << rejected.status();

    engine::runner::cuda::CudaRunnerOptions f32;
    f32.dtype = kernels::DType::kF32;
    f32.kv_dtype = kernels::DType::kF32;
    auto cuda_runner =
        engine::runner::cuda::CreateCudaModelRunner(*config, *weights, engine_config.kv_cache, f32);
    ASSERT_TRUE(cuda_runner.ok()) << cuda_runner.status();
    auto cuda = engine::Engine::Create(engine_config, *config, std::move(*cuda_runner));
    ASSERT_TRUE(cuda.ok()) << cuda.status();
    auto cpu = engine::Engine::Create(engine_config, *config,
                                      std::make_unique<engine::runner::cpu::CpuModelRunner>(
                                          *config, *weights, engine_config.kv_cache, 0));
    ASSERT_TRUE(cpu.ok()) << cpu.status();

    const std::vector<engine::GenerateRequest> requests = Requests(config->vocab_size);
    const std::vector<Generation> want = RunAll(**cpu, requests);
    const std::vector<Generation> got = RunAll(**cuda, requests);
    ASSERT_EQ(got.size(), want.size());
    int tokens_compared = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      const std::string what =
          "head_dim " + std::to_string(head_dim) + " request " + std::to_string(i);
      ASSERT_EQ(got[i].prompt_logprobs.size(), want[i].prompt_logprobs.size()) << what;
      for (size_t p = 0; p < want[i].prompt_logprobs.size(); ++p) {
        EXPECT_NEAR(got[i].prompt_logprobs[p].logprob, want[i].prompt_logprobs[p].logprob, 1e-3)
            << what << " prompt position " << p;
      }
      ASSERT_EQ(got[i].token_ids.size(), want[i].token_ids.size()) << what;
      for (size_t s = 0; s < want[i].token_ids.size(); ++s) {
        EXPECT_NEAR(got[i].logprobs[s].logprob, want[i].logprobs[s].logprob, 1e-3) << what;
        const auto& top = want[i].logprobs[s].top;
        if (top.size() < 2 || top[0].second - top[1].second < 1e-3) break;  // a near tie
        EXPECT_EQ(got[i].token_ids[s], want[i].token_ids[s]) << what << " step " << s;
        ++tokens_compared;
        if (got[i].token_ids[s] != want[i].token_ids[s]) break;
      }
    }
    EXPECT_GE(tokens_compared, 12) << "too few greedy tokens compared at head_dim " << head_dim;
  }
}

}  // namespace
}  // namespace stride::testing
