// What CreateCudaModelRunner refuses, with the error a user sees, and the neighbouring settings it
// takes (so that a refusal cannot come from something else in the setup).
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "engine/engine_factory.h"
#include "engine/model/model_config.h"
#include "engine/model/weights.h"
#include "engine/runner/cuda/cuda_model_runner.h"
#include "engine/runner/kv_cache_spec.h"
#include "gtest/gtest.h"
#include "tests/integration/golden_fixture.h"

namespace stride::testing {
namespace {

using engine::runner::cuda::CreateCudaModelRunner;
using engine::runner::cuda::CudaRunnerOptions;

struct Model {
  engine::model::ModelConfig config;
  engine::model::ModelWeights weights;
};

Model LlamaFixture() {
  auto config = engine::model::LoadModelConfig(FixtureDir("llama-gqa-llama3rope"));
  EXPECT_TRUE(config.ok()) << config.status();
  auto weights = engine::model::LoadModelWeights(*config, "", engine::model::LoadFormat::kDummy,
                                                 /*seed=*/1);
  EXPECT_TRUE(weights.ok()) << weights.status();
  return {*config, std::move(*weights)};
}

// The decode kernel maps keys to blocks by shift and mask.
TEST(CudaRunnerOptions, BlockSizeMustBeAPowerOfTwo) {
  const Model m = LlamaFixture();
  for (int block_size : {8, 16, 32}) {
    const auto kv = engine::runner::BuildKvCacheConfig(m.config, block_size, 64, true);
    EXPECT_TRUE(CreateCudaModelRunner(m.config, m.weights, kv, CudaRunnerOptions{}).ok())
        << block_size;
  }
  for (int block_size : {12, 24}) {
    const auto kv = engine::runner::BuildKvCacheConfig(m.config, block_size, 64, true);
    const auto runner = CreateCudaModelRunner(m.config, m.weights, kv, CudaRunnerOptions{});
    EXPECT_EQ(runner.status().code(), absl::StatusCode::kInvalidArgument) << block_size;
    EXPECT_NE(runner.status().message().find("power-of-two --block-size"), std::string::npos)
        << runner.status();
  }
}

// The cache holds the model's dtype, or fp8 under a bfloat16 model.
TEST(CudaRunnerOptions, KvCacheDtypeFollowsTheModel) {
  const Model m = LlamaFixture();
  const auto kv = engine::runner::BuildKvCacheConfig(m.config, 16, 64, true);
  const auto runner = [&](kernels::DType dtype, kernels::DType kv_dtype) {
    CudaRunnerOptions options;
    options.dtype = dtype;
    options.kv_dtype = kv_dtype;
    return CreateCudaModelRunner(m.config, m.weights, kv, options).status();
  };
  using kernels::DType;
  EXPECT_TRUE(runner(DType::kBF16, DType::kBF16).ok());
  EXPECT_TRUE(runner(DType::kBF16, DType::kFP8E4M3).ok());
  EXPECT_TRUE(runner(DType::kF32, DType::kF32).ok());
  for (auto [dtype, kv_dtype] : {std::pair{DType::kF32, DType::kBF16},
                                 {DType::kF32, DType::kFP8E4M3},
                                 {DType::kBF16, DType::kF32},
                                 {DType::kFP8E4M3, DType::kFP8E4M3}}) {
    const absl::Status status = runner(dtype, kv_dtype);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_NE(status.message().find("KV cache"), std::string::npos) << status;
  }
}

// Not given, asynchronous scheduling is on with the CUDA backend (its Launch only queues the
// step); given, it holds. (The CPU backend's default, off, is tests/unit/engine.)
TEST(CudaRunnerOptions, AsyncSchedulingIsTheCudaDefault) {
  engine::EngineOptions options;
  options.model = FixtureDir("llama-gqa-llama3rope");
  options.device = "cuda";
  options.max_model_len = 128;
  options.num_kv_blocks = 64;
  for (std::optional<bool> asked : {std::optional<bool>(), std::optional<bool>(true),
                                    std::optional<bool>(false)}) {
    options.async_scheduling = asked;
    absl::StatusOr<engine::LoadedEngine> loaded = engine::CreateEngine(options);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(loaded->async_scheduling, asked.value_or(true));
  }
}

}  // namespace
}  // namespace stride::testing
