// The engine with asynchronous scheduling (step N+1 planned and launched before step N's
// results are taken) on the tiny HuggingFace fixture, CPU backend: every stream must read
// exactly what the synchronous loop gives: tokens, log-probs, prompt log-probs, finish reasons.
// The CPU backend is batch-invariant, so the different batches the two loops form do not matter.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/model/model_config.h"
#include "engine/runner/kv_cache_spec.h"
#include "engine/runner/model_runner.h"
#include "gtest/gtest.h"
#include "tests/unit/engine/engine_test_util.h"

namespace stride::engine {
namespace {

TEST(EngineAsyncTest, OutputsEqualTheSynchronousLoop) {
  const int32_t stop_token = MixedStopToken();
  ASSERT_GE(stop_token, 0);

  LoadedEngine sync = MakeEngine();
  LoadedEngine async = MakeEngine(/*num_kv_blocks=*/0, /*async_scheduling=*/true);
  const auto a = RunStreams(*sync.engine, MixedRequests(stop_token));
  const auto b = RunStreams(*async.engine, MixedRequests(stop_token));
  ExpectSameOutputs(a, b, /*logprob_tolerance=*/0);
  ASSERT_EQ(b.size(), 5u);
  EXPECT_EQ(b[4][0].finish_reason, FinishReason::kStop);
  EXPECT_LE(b[4][0].token_ids.size(), 6u);  // stops at the first occurrence
  EXPECT_EQ(b[2][0].token_ids.size(), 25u);
  EXPECT_EQ(b[3][0].prompt_logprobs.size(), 69u);
  const EngineStats s = WaitIdle(*async.engine);
  EXPECT_EQ(s.num_free_kv_blocks, s.num_total_kv_blocks);
}

TEST(EngineAsyncTest, PreemptionOnATightPoolKeepsTheOutputs) {
  // Preemption by recompute, with tokens in flight when it happens.
  const std::vector<GenerateRequest> requests = GrowingSampledRequests();
  LoadedEngine roomy = MakeEngine();
  LoadedEngine tight = MakeEngine(/*num_kv_blocks=*/24, /*async_scheduling=*/true);
  ExpectSameOutputs(RunStreams(*roomy.engine, requests), RunStreams(*tight.engine, requests),
                    /*logprob_tolerance=*/0);
  const EngineStats s = WaitIdle(*tight.engine);
  EXPECT_GT(s.num_preemptions, 0) << "the pool was not tight enough";
  EXPECT_EQ(s.num_free_kv_blocks, s.num_total_kv_blocks);
}

TEST(EngineAsyncTest, AbortMidGenerationFreesEveryBlock) {
  LoadedEngine e = MakeEngine(/*num_kv_blocks=*/0, /*async_scheduling=*/true);
  const int free_at_start = e.engine->stats().num_free_kv_blocks;
  auto stream = e.engine->Submit(Request(100, 400));
  ASSERT_TRUE(stream.ok());
  RequestOutput first;
  ASSERT_TRUE((*stream)->Next(&first));  // decoding, with a step in flight
  e.engine->Abort((*stream)->id());
  std::vector<RequestOutput> out = Drain(**stream, 1);
  EXPECT_EQ(out[0].finish_reason, FinishReason::kAbort);
  EXPECT_LT(out[0].token_ids.size(), 399u);
  EXPECT_EQ(WaitIdle(*e.engine).num_free_kv_blocks, free_at_start);
}

TEST(EngineAsyncTest, ShutdownWithAStepInFlightAbortsTheRequest) {
  std::shared_ptr<RequestStream> stream;
  {
    LoadedEngine e = MakeEngine(/*num_kv_blocks=*/0, /*async_scheduling=*/true);
    auto s = e.engine->Submit(Request(50, 450));
    ASSERT_TRUE(s.ok());
    stream = *s;
    RequestOutput first;
    ASSERT_TRUE(stream->Next(&first));
  }
  std::vector<RequestOutput> out = Drain(*stream, 1);
  EXPECT_EQ(out[0].finish_reason, FinishReason::kAbort);
}

// A runner that only runs steps synchronously.
class SynchronousRunner : public runner::ModelRunner {
 public:
  scheduler::StepOutput Execute(const scheduler::SchedulerOutput&) override { return {}; }
};

TEST(EngineAsyncTest, ARunnerWithoutSupportIsRefused) {
  auto model = model::LoadModelConfig(std::string(STRIDE_SOURCE_DIR) +
                                      "/tests/fixtures/models/llama-gqa-llama3rope/config.json");
  ASSERT_TRUE(model.ok()) << model.status();
  EngineConfig config;
  config.scheduler.max_model_len = 64;
  config.kv_cache = runner::BuildKvCacheConfig(*model, 16, 32, true);
  config.async_scheduling = true;
  auto engine = Engine::Create(config, *model, std::make_unique<SynchronousRunner>());
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kUnimplemented);
  config.async_scheduling = false;
  EXPECT_TRUE(Engine::Create(config, *model, std::make_unique<SynchronousRunner>()).ok());
}

// Not given, asynchronous scheduling follows the backend: off on the CPU (its Launch computes
// the step, so a token would only come a step later), on with CUDA (tests/gpu); given, it holds.
TEST(EngineAsyncTest, UnsetMeansTheBackendsDefault) {
  EngineOptions options;
  options.model = std::string(STRIDE_SOURCE_DIR) + "/tests/fixtures/models/llama-gqa-llama3rope";
  options.device = "cpu";
  options.max_model_len = 128;
  for (std::optional<bool> asked : {std::optional<bool>(), std::optional<bool>(true),
                                    std::optional<bool>(false)}) {
    options.async_scheduling = asked;
    absl::StatusOr<LoadedEngine> loaded = CreateEngine(options);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(loaded->async_scheduling, asked.value_or(false));
  }
}

}  // namespace
}  // namespace stride::engine
