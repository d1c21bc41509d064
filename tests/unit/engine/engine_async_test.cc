// The engine with asynchronous scheduling (step N+1 planned and launched before step N's
// results are taken) on the tiny HuggingFace fixture, CPU backend: every stream must read
// exactly what the synchronous loop gives: tokens, log-probs, prompt log-probs, finish reasons.
// The CPU backend is batch-invariant, so the different batches the two loops form do not matter.
#include <memory>
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

// Runs `requests` (all submitted at once) and returns each one's outputs per sequence.
std::vector<std::vector<RequestOutput>> RunAll(Engine& engine,
                                               const std::vector<GenerateRequest>& requests) {
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (const GenerateRequest& r : requests) {
    auto stream = engine.Submit(r);
    EXPECT_TRUE(stream.ok()) << stream.status();
    if (!stream.ok()) return {};
    streams.push_back(*stream);
  }
  std::vector<std::vector<RequestOutput>> out;
  for (size_t i = 0; i < streams.size(); ++i) {
    out.push_back(Drain(*streams[i], requests[i].sampling.n));
  }
  return out;
}

void ExpectSameLogprobs(const std::vector<scheduler::TokenLogprob>& a,
                        const std::vector<scheduler::TokenLogprob>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].token_id, b[i].token_id) << what << " " << i;
    EXPECT_EQ(a[i].logprob, b[i].logprob) << what << " " << i;
    EXPECT_EQ(a[i].top, b[i].top) << what << " " << i;
  }
}

void ExpectSameOutputs(const std::vector<std::vector<RequestOutput>>& sync,
                       const std::vector<std::vector<RequestOutput>>& async) {
  ASSERT_EQ(sync.size(), async.size());
  for (size_t r = 0; r < sync.size(); ++r) {
    ASSERT_EQ(sync[r].size(), async[r].size());
    for (size_t i = 0; i < sync[r].size(); ++i) {
      const std::string what = "request " + std::to_string(r) + " sequence " + std::to_string(i);
      EXPECT_EQ(sync[r][i].token_ids, async[r][i].token_ids) << what;
      EXPECT_EQ(sync[r][i].finish_reason, async[r][i].finish_reason) << what;
      ExpectSameLogprobs(sync[r][i].logprobs, async[r][i].logprobs, what + " logprobs");
      ExpectSameLogprobs(sync[r][i].prompt_logprobs, async[r][i].prompt_logprobs,
                         what + " prompt logprobs");
    }
  }
}

// Greedy, seeded sampling with top-k / top-p and log-probs, n = 2 with penalties, logit bias and
// min_tokens (the sampler's token history must include the token in flight), prompt log-probs,
// and a stop token.
std::vector<GenerateRequest> MixedRequests(int32_t stop_token) {
  std::vector<GenerateRequest> requests;
  requests.push_back(Request(20, 12));
  GenerateRequest sampled = Request(45, 30);
  sampled.sampling.temperature = 0.8f;
  sampled.sampling.top_k = 20;
  sampled.sampling.top_p = 0.9f;
  sampled.sampling.seed = 11;
  sampled.sampling.logprobs = 3;
  requests.push_back(sampled);
  GenerateRequest penalized = Request(7, 25);
  penalized.sampling.temperature = 1.0f;
  penalized.sampling.n = 2;
  penalized.sampling.seed = 5;
  penalized.sampling.repetition_penalty = 1.3f;
  penalized.sampling.presence_penalty = 0.5f;
  penalized.sampling.frequency_penalty = 0.2f;
  penalized.sampling.logit_bias = {{10, 2.0f}};
  penalized.sampling.min_tokens = 5;
  requests.push_back(penalized);
  GenerateRequest scored = Request(70, 10);
  scored.sampling.prompt_logprobs = 2;
  requests.push_back(scored);
  GenerateRequest stopped = Request(30, 40);
  stopped.sampling.stop_token_ids = {stop_token};
  requests.push_back(stopped);
  return requests;
}

TEST(EngineAsyncTest, OutputsEqualTheSynchronousLoop) {
  // The stop token: the 6th token the last request generates without one.
  LoadedEngine probe = MakeEngine();
  const std::vector<RequestOutput> free_run = RunAll(*probe.engine, {Request(30, 40)})[0];
  ASSERT_EQ(free_run[0].token_ids.size(), 40u);
  const int32_t stop_token = free_run[0].token_ids[5];

  LoadedEngine sync = MakeEngine();
  LoadedEngine async = MakeEngine(/*num_kv_blocks=*/0, /*async_scheduling=*/true);
  const auto a = RunAll(*sync.engine, MixedRequests(stop_token));
  const auto b = RunAll(*async.engine, MixedRequests(stop_token));
  ExpectSameOutputs(a, b);
  ASSERT_EQ(b.size(), 5u);
  EXPECT_EQ(b[4][0].finish_reason, FinishReason::kStop);
  EXPECT_LE(b[4][0].token_ids.size(), 6u);  // stops at the first occurrence
  EXPECT_EQ(b[2][0].token_ids.size(), 25u);
  EXPECT_EQ(b[3][0].prompt_logprobs.size(), 69u);
  const EngineStats s = WaitIdle(*async.engine);
  EXPECT_EQ(s.num_free_kv_blocks, s.num_total_kv_blocks);
}

TEST(EngineAsyncTest, PreemptionOnATightPoolKeepsTheOutputs) {
  // 8 requests growing to 90 tokens (6 blocks of 16 each) on 24 blocks: preemption by
  // recompute, with tokens in flight when it happens.
  std::vector<GenerateRequest> requests;
  for (int i = 0; i < 8; ++i) {
    GenerateRequest r = Request(40 + i, 50 - i);
    r.sampling.temperature = 1.0f;
    r.sampling.seed = 100 + i;
    requests.push_back(r);
  }
  LoadedEngine roomy = MakeEngine();
  LoadedEngine tight = MakeEngine(/*num_kv_blocks=*/24, /*async_scheduling=*/true);
  ExpectSameOutputs(RunAll(*roomy.engine, requests), RunAll(*tight.engine, requests));
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

}  // namespace
}  // namespace stride::engine
