// The CUDA runner under asynchronous scheduling: a decode input still being sampled is read on
// the device from the previous step's sampler output (or, sampled on the host, sampled early),
// and host buffers alternate between the two steps in flight. In the exact mode (float32) every
// stream must read what the synchronous loop gives: same tokens, log-probs within 1e-4 (the two
// loops form different batches, which may pick different cuBLASLt algorithms). Greedy requests
// against the HF goldens run asynchronously in cuda_runner_golden_test.cc too.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/engine/engine_test_util.h"

namespace stride::engine {
namespace {

TEST(CudaRunnerAsync, Float32OutputsEqualTheSynchronousLoop) {
  const int32_t stop_token = MixedStopToken("cuda", "float32");
  ASSERT_GE(stop_token, 0);

  LoadedEngine sync = MakeEngine(0, false, "cuda", "float32");
  LoadedEngine async = MakeEngine(0, true, "cuda", "float32");
  const auto a = RunStreams(*sync.engine, MixedRequests(stop_token));
  const auto b = RunStreams(*async.engine, MixedRequests(stop_token));
  ExpectSameOutputs(a, b, /*logprob_tolerance=*/1e-4);
  ASSERT_EQ(b.size(), 5u);
  EXPECT_EQ(b[4][0].finish_reason, FinishReason::kStop);
  const EngineStats s = WaitIdle(*async.engine);
  EXPECT_EQ(s.num_free_kv_blocks, s.num_total_kv_blocks);
}

TEST(CudaRunnerAsync, Float32PreemptionOnATightPoolKeepsTheOutputs) {
  const std::vector<GenerateRequest> requests = GrowingSampledRequests();
  LoadedEngine roomy = MakeEngine(0, false, "cuda", "float32");
  LoadedEngine tight = MakeEngine(24, true, "cuda", "float32");
  ExpectSameOutputs(RunStreams(*roomy.engine, requests), RunStreams(*tight.engine, requests),
                    /*logprob_tolerance=*/1e-4);
  const EngineStats s = WaitIdle(*tight.engine);
  EXPECT_GT(s.num_preemptions, 0) << "the pool was not tight enough";
  EXPECT_EQ(s.num_free_kv_blocks, s.num_total_kv_blocks);
}

// bf16 with CUDA graphs: every request gets all its tokens and the pool comes back whole (bf16
// batches may round differently from the synchronous loop's, so tokens are not compared here;
// the golden test compares greedy bf16 runs with the HF goldens).
TEST(CudaRunnerAsync, Bf16CompletesEveryRequestAndFreesThePool) {
  LoadedEngine async = MakeEngine(0, true, "cuda", "bfloat16");
  std::vector<GenerateRequest> requests;
  for (int i = 0; i < 8; ++i) requests.push_back(Request(20 + 7 * i, 30 + i));
  const auto out = RunStreams(*async.engine, requests);
  ASSERT_EQ(out.size(), requests.size());
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i][0].token_ids.size(), static_cast<size_t>(30 + i)) << i;
    EXPECT_EQ(out[i][0].finish_reason, FinishReason::kLength) << i;
  }
  const EngineStats s = WaitIdle(*async.engine);
  EXPECT_EQ(s.num_free_kv_blocks, s.num_total_kv_blocks);
}

}  // namespace
}  // namespace stride::engine
