// The engine loop end to end on a tiny HuggingFace fixture (CPU backend): submission errors,
// aborts in flight, n > 1 fan-out, shutdown with requests in flight.
#include "engine/engine.h"

#include <chrono>
#include <thread>

#include "engine/engine_factory.h"
#include "gtest/gtest.h"
#include "tests/unit/engine/engine_test_util.h"

namespace stride::engine {
namespace {

TEST(CreateEngine, DtypeIsCheckedAgainstTheBackend) {
  EngineOptions options;
  options.model = std::string(STRIDE_SOURCE_DIR) + "/tests/fixtures/models/llama-gqa-llama3rope";
  options.device = "cpu";
  options.max_model_len = 128;
  for (const char* ok : {"auto", "float32"}) {
    options.dtype = ok;
    auto loaded = CreateEngine(options);
    ASSERT_TRUE(loaded.ok()) << ok << ": " << loaded.status();
    EXPECT_EQ(loaded->dtype, "float32") << ok;
  }
  options.dtype = "bfloat16";  // the CPU backend has no bf16 path
  auto bf16 = CreateEngine(options);
  EXPECT_EQ(bf16.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bf16.status().message().find("float32"), std::string::npos) << bf16.status();
  options.dtype = "half";
  EXPECT_EQ(CreateEngine(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.dtype = "auto";
  options.kv_cache_dtype = "fp8";  // a CUDA bfloat16 feature
  auto fp8 = CreateEngine(options);
  EXPECT_EQ(fp8.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(fp8.status().message().find("CUDA"), std::string::npos) << fp8.status();
  options.kv_cache_dtype = "int4";
  EXPECT_EQ(CreateEngine(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.kv_cache_dtype = "auto";
  auto loaded = CreateEngine(options);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->kv_cache_dtype, "float32");
}

// Flags are checked before the weights load (a missing model would fail later), and the CPU
// backend takes block sizes that are not powers of two (the CUDA backend does not).
TEST(CreateEngine, BlockSizeIsCheckedBeforeTheModelLoads) {
  EngineOptions options;
  options.model = "/nonexistent/model";
  options.device = "cpu";
  for (int bad : {0, -16, 1025}) {
    options.block_size = bad;
    const auto loaded = CreateEngine(options);
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(loaded.status().message().find("--block-size"), std::string::npos) << loaded.status();
  }
  options.model = std::string(STRIDE_SOURCE_DIR) + "/tests/fixtures/models/llama-gqa-llama3rope";
  options.max_model_len = 128;
  options.block_size = 12;
  auto loaded = CreateEngine(options);
  EXPECT_TRUE(loaded.ok()) << loaded.status();
}

TEST(EngineTest, RejectsMalformedRequestsAtSubmit) {
  LoadedEngine e = MakeEngine();
  GenerateRequest empty = Request(0, 4);
  EXPECT_EQ(e.engine->Submit(empty).status().code(), absl::StatusCode::kInvalidArgument);
  GenerateRequest bad_id = Request(4, 4);
  bad_id.prompt_token_ids[2] = 512;  // vocab is 512
  EXPECT_EQ(e.engine->Submit(bad_id).status().code(), absl::StatusCode::kInvalidArgument);
  GenerateRequest bad_knob = Request(4, 4);
  bad_knob.sampling.top_p = 0;
  EXPECT_EQ(e.engine->Submit(bad_knob).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(EngineTest, TooLongRequestEndsWithAnErrorOnItsStream) {
  LoadedEngine e = MakeEngine();
  auto stream = e.engine->Submit(Request(500, 100));  // 600 > max_model_len 512
  ASSERT_TRUE(stream.ok());
  std::vector<RequestOutput> out = Drain(**stream, 1);
  EXPECT_EQ(out[0].finish_reason, FinishReason::kError);
  EXPECT_EQ(out[0].status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(out[0].token_ids.empty());
}

TEST(EngineTest, AbortMidGenerationFreesEveryBlock) {
  LoadedEngine e = MakeEngine();
  const int free_at_start = e.engine->stats().num_free_kv_blocks;
  auto stream = e.engine->Submit(Request(100, 400));
  ASSERT_TRUE(stream.ok());
  RequestOutput first;
  ASSERT_TRUE((*stream)->Next(&first));  // it is decoding now
  EXPECT_LT(e.engine->stats().num_free_kv_blocks, free_at_start);
  e.engine->Abort((*stream)->id());
  std::vector<RequestOutput> out = Drain(**stream, 1);
  EXPECT_EQ(out[0].finish_reason, FinishReason::kAbort);
  EXPECT_LT(out[0].token_ids.size(), 399u);
  EngineStats s = WaitIdle(*e.engine);
  EXPECT_EQ(s.num_free_kv_blocks, free_at_start);
}

TEST(EngineTest, AbortWhileWaitingFreesEverything) {
  // One block-hungry request holds the pool; the second waits and is aborted there.
  LoadedEngine e = MakeEngine(/*num_kv_blocks=*/40);
  const int free_at_start = e.engine->stats().num_free_kv_blocks;
  auto big = e.engine->Submit(Request(480, 30));
  auto waiting = e.engine->Submit(Request(300, 10));
  ASSERT_TRUE(big.ok() && waiting.ok());
  e.engine->Abort((*waiting)->id());
  std::vector<RequestOutput> aborted = Drain(**waiting, 1);
  EXPECT_EQ(aborted[0].finish_reason, FinishReason::kAbort);
  std::vector<RequestOutput> done = Drain(**big, 1);
  EXPECT_EQ(done[0].finish_reason, FinishReason::kLength);
  EXPECT_EQ(done[0].token_ids.size(), 30u);
  EXPECT_EQ(WaitIdle(*e.engine).num_free_kv_blocks, free_at_start);
}

TEST(EngineTest, NGreaterThanOneGivesDistinctSeededSequences) {
  LoadedEngine e = MakeEngine();
  GenerateRequest r = Request(20, 12);
  r.sampling.temperature = 1.0f;
  r.sampling.n = 4;
  r.sampling.seed = 7;
  auto first = e.engine->Submit(r);
  ASSERT_TRUE(first.ok());
  std::vector<RequestOutput> a = Drain(**first, 4);
  auto second = e.engine->Submit(r);
  ASSERT_TRUE(second.ok());
  std::vector<RequestOutput> b = Drain(**second, 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(a[i].token_ids.size(), 12u);
    EXPECT_EQ(a[i].token_ids, b[i].token_ids) << "same seed, same sequence " << i;
  }
  EXPECT_NE(a[0].token_ids, a[1].token_ids);
  EXPECT_NE(a[2].token_ids, a[3].token_ids);
  // Prompt tokens count once per request, not once per sequence.
  EXPECT_EQ(WaitIdle(*e.engine).num_prompt_tokens, 2 * 20);
}

TEST(EngineTest, ShutdownAbortsRequestsInFlight) {
  std::shared_ptr<RequestStream> stream;
  {
    LoadedEngine e = MakeEngine();
    auto s = e.engine->Submit(Request(50, 450));
    ASSERT_TRUE(s.ok());
    stream = *s;
  }  // the engine is destroyed mid-generation
  std::vector<RequestOutput> out = Drain(*stream, 1);
  EXPECT_EQ(out[0].finish_reason, FinishReason::kAbort);
}

}  // namespace
}  // namespace stride::engine
