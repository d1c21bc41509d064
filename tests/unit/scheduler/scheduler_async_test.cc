// Asynchronous scheduling: step N+1 is planned before step N's Update(). The FakeRunner checks
// every read of KV (a chunk may start at the token the step before is still sampling), and the
// outputs must equal those of the ordinary, synchronous loop.
#include <cstdint>
#include <map>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/scheduler/scheduler_harness.h"

namespace stride::scheduler::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using C = ChunkRecord;

constexpr int32_t kEos = 7;

TEST(SchedulerAsyncTest, DecodesEveryStepFromTheTokenInFlight) {
  Harness h(SchedConfig(64), KvConfig(16, 4));
  h.Add(1, 8, 4);
  // The prefill samples output 0; the next step decodes it (position 8) while it is still in
  // flight, and so on: one step per token, as in the synchronous loop.
  EXPECT_THAT(h.StepAsync(), ElementsAre(C{1, 0, 8, true}));
  EXPECT_THAT(h.StepAsync(), ElementsAre(C{1, 8, 1, true}));
  EXPECT_THAT(h.outputs[1], ElementsAre(DefaultScript(1, 0)));  // step 1's result, applied now
  const Request* r = h.scheduler.FindRequest(1);
  EXPECT_EQ(r->num_computed_tokens, 8);
  EXPECT_EQ(r->num_in_flight_tokens, 1);
  EXPECT_EQ(r->num_pending_tokens, 1);
  EXPECT_THAT(h.StepAsync(), ElementsAre(C{1, 9, 1, true}));
  EXPECT_THAT(h.StepAsync(), ElementsAre(C{1, 10, 1, true}));
  // Output 3, the last one max_tokens allows, is in flight: nothing is scheduled for it.
  EXPECT_THAT(h.StepAsync(), IsEmpty());
  EXPECT_EQ(h.finish_reasons[1], FinishReason::kLength);
  EXPECT_FALSE(h.scheduler.HasUnfinished());
  EXPECT_THAT(h.outputs[1], ElementsAre(DefaultScript(1, 0), DefaultScript(1, 1),
                                        DefaultScript(1, 2), DefaultScript(1, 3)));
  EXPECT_EQ(h.kv.num_free_blocks(), h.kv.num_total_blocks());
}

TEST(SchedulerAsyncTest, ChunkedPrefillChunksFollowEachOtherInFlight) {
  Harness h(SchedConfig(8), KvConfig(16, 4));
  h.Add(1, 20, 2);
  EXPECT_THAT(h.StepAsync(), ElementsAre(C{1, 0, 8, false}));
  EXPECT_THAT(h.StepAsync(), ElementsAre(C{1, 8, 8, false}));  // starts where step 1 ends
  EXPECT_THAT(h.StepAsync(), ElementsAre(C{1, 16, 4, true}));
  EXPECT_THAT(h.StepAsync(), ElementsAre(C{1, 20, 1, true}));
  h.RunToCompletionAsync();
  EXPECT_EQ(h.outputs[1].size(), 2u);
  EXPECT_EQ(h.kv.num_free_blocks(), h.kv.num_total_blocks());
}

TEST(SchedulerAsyncTest, AStopTokenCostsOneDroppedRow) {
  Harness h(SchedConfig(64), KvConfig(16, 4));
  auto r = h.MakeRequest(1, 5, 10);
  r->eos_token_ids = {kEos};
  ASSERT_TRUE(h.scheduler.AddRequest(std::move(r)).ok());
  h.runner.set_script([](RequestId id, int k) { return k == 2 ? kEos : DefaultScript(id, k); });
  int sample_rows = 0;
  while (h.scheduler.HasUnfinished() || h.num_steps == 0) {
    for (const ChunkRecord& c : h.StepAsync()) sample_rows += c.sample;
  }
  h.RunToCompletionAsync();
  // Outputs 0..2, the last one the EOS; the row for output 3 was computed before step 3's
  // result showed the EOS, and its token is not reported.
  EXPECT_THAT(h.outputs[1], ElementsAre(DefaultScript(1, 0), DefaultScript(1, 1), kEos));
  EXPECT_EQ(h.finish_reasons[1], FinishReason::kStop);
  EXPECT_EQ(sample_rows, 4);
  EXPECT_EQ(h.kv.num_free_blocks(), h.kv.num_total_blocks());
}

TEST(SchedulerAsyncTest, AbortWithAStepInFlight) {
  Harness h(SchedConfig(64), KvConfig(32, 4));
  h.Add(1, 6, 10);
  h.Add(2, 6, 10);
  h.StepAsync();
  h.StepAsync();  // both decode; step 1's results applied, step 2 in flight
  ASSERT_TRUE(h.scheduler.Abort(2));
  EXPECT_TRUE(h.kv.BlockTables(2)[0].empty());
  // Step 2's chunk for request 2 is ignored when its result arrives; the request stays
  // readable until no step in flight can point at it.
  EXPECT_THAT(h.StepAsync(), ElementsAre(C{1, 7, 1, true}));
  EXPECT_EQ(h.scheduler.FindRequest(2)->finish_reason, FinishReason::kAbort);
  EXPECT_EQ(h.outputs[2].size(), 1u);
  h.RunToCompletionAsync();
  EXPECT_EQ(h.scheduler.FindRequest(2), nullptr);
  EXPECT_EQ(h.outputs[1].size(), 10u);
  EXPECT_EQ(h.kv.num_free_blocks(), h.kv.num_total_blocks());
}

TEST(SchedulerAsyncTest, PreemptionWithAStepInFlightResamplesTheSameTokens) {
  // As SchedulerPreemptionTest's first case: 6 blocks of 4 tokens, three requests growing to
  // 16 tokens. Request 3 is preempted while its next token is in flight.
  Harness tight(SchedConfig(64), KvConfig(7, 4));
  Harness roomy(SchedConfig(64), KvConfig(64, 4));
  for (Harness* h : {&tight, &roomy}) {
    for (RequestId id = 1; id <= 3; ++id) h->Add(id, 6, 10);
  }
  tight.RunToCompletionAsync();
  roomy.RunToCompletion();
  EXPECT_GE(tight.scheduler.num_preemptions_total(), 1);
  EXPECT_EQ(tight.outputs, roomy.outputs);
  for (RequestId id = 1; id <= 3; ++id) EXPECT_EQ(tight.outputs[id].size(), 10u);
  EXPECT_EQ(tight.kv.num_free_blocks(), tight.kv.num_total_blocks());
}

// The preemption test's pseudo-random load on a tight pool, scheduled asynchronously, with stop
// tokens: every request ends as in the synchronous loop on a roomy pool.
struct AsyncStressParams {
  SchedulerConfig::Policy policy;
  bool chunked;
  bool sliding;
};

class SchedulerAsyncStressTest : public ::testing::TestWithParam<AsyncStressParams> {};

TEST_P(SchedulerAsyncStressTest, OutputsEqualTheSynchronousLoops) {
  const AsyncStressParams p = GetParam();
  const SchedulerConfig config = StressConfig(p.policy, p.chunked);
  Harness tight(config, StressPool(/*tight=*/true, p.sliding));
  Harness roomy(config, StressPool(/*tight=*/false, p.sliding));
  // Every fifth request stops at its fourth output (EOS), unless max_tokens ends it first.
  auto script = [](RequestId id, int k) {
    return id % 5 == 0 && k == 3 ? kEos : DefaultScript(id, k);
  };
  tight.runner.set_script(script);
  roomy.runner.set_script(script);
  Lcg lcg(777);
  auto next = [&lcg](int bound) { return lcg.Next(bound); };
  std::vector<int32_t> shared = PromptTokens(999, 24);
  for (RequestId id = 1; id <= 40; ++id) {
    const int prompt_len = 1 + next(40);
    const int max_tokens = 1 + next(15);
    const int priority = next(3);
    std::vector<int32_t> prompt;
    if (id % 3 == 0) prompt.assign(shared.begin(), shared.begin() + std::min(prompt_len, 24));
    for (Harness* h : {&tight, &roomy}) {
      auto r = h->MakeRequest(id, prompt_len, max_tokens, prompt);
      r->priority = priority;
      r->eos_token_ids = {kEos};
      ASSERT_TRUE(h->scheduler.AddRequest(std::move(r)).ok()) << id;
    }
    if (id % 4 == 0) {  // requests arrive while others run
      tight.StepAsync();
      roomy.Step();
    }
  }
  tight.RunToCompletionAsync(5000);
  roomy.RunToCompletion(5000);
  ASSERT_FALSE(tight.scheduler.HasUnfinished()) << "stuck";
  EXPECT_GT(tight.scheduler.num_preemptions_total(), 0) << "the pool was not tight enough";
  EXPECT_EQ(tight.outputs, roomy.outputs);
  EXPECT_EQ(tight.finish_reasons, roomy.finish_reasons);
  EXPECT_EQ(tight.kv.num_free_blocks(), tight.kv.num_total_blocks());
}

INSTANTIATE_TEST_SUITE_P(
    Variants, SchedulerAsyncStressTest,
    ::testing::Values(AsyncStressParams{SchedulerConfig::Policy::kFcfs, true, false},
                      AsyncStressParams{SchedulerConfig::Policy::kFcfs, false, false},
                      AsyncStressParams{SchedulerConfig::Policy::kPriority, true, false},
                      AsyncStressParams{SchedulerConfig::Policy::kFcfs, true, true},
                      AsyncStressParams{SchedulerConfig::Policy::kPriority, true, true}));

// Many random workloads (seeded, so a failure reproduces): pool size, budget, chunking, policy,
// sliding window, block size, arrivals while others run, stop tokens and shared prefixes all
// vary. The asynchronous loop on the drawn pool must end every request as the synchronous loop
// does on a roomy one.
TEST(SchedulerAsyncRandomTest, RandomWorkloadsEndAsInTheSynchronousLoop) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    Lcg lcg(seed * 0x9E3779B97F4A7C15ULL);
    auto next = [&lcg](int bound) { return lcg.Next(bound); };
    const int block_size = 2 << next(3);  // 2, 4 or 8
    const bool sliding = next(3) == 0;
    const bool chunked = next(4) != 0;
    SchedulerConfig config = SchedConfig(/*budget=*/chunked ? 8 + next(40) : 64,
                                         /*max_num_seqs=*/1 + next(8), /*max_model_len=*/64);
    config.policy = next(2) ? SchedulerConfig::Policy::kPriority : SchedulerConfig::Policy::kFcfs;
    config.enable_chunked_prefill = chunked;
    auto kv_config = [&](int num_blocks) {
      return FullAndWindowKvConfig(num_blocks, block_size, sliding ? 5 : 0);
    };
    // Enough for the longest request (64 tokens) in every group, plus a random margin.
    const int min_blocks = (sliding ? 2 : 1) * (64 / block_size + 2) + 1;
    Harness tight(config, kv_config(min_blocks + next(3 * min_blocks)));
    Harness roomy(config, kv_config(4000));
    const int stop_every = 2 + next(6);
    auto script = [stop_every](RequestId id, int k) {
      return static_cast<int>(id) % stop_every == 0 && k == 2 ? kEos : DefaultScript(id, k);
    };
    tight.runner.set_script(script);
    roomy.runner.set_script(script);
    std::vector<int32_t> shared = PromptTokens(999, 32);
    const int num_requests = 1 + next(24);
    for (RequestId id = 1; id <= static_cast<RequestId>(num_requests); ++id) {
      const int prompt_len = 1 + next(chunked ? 40 : 30);
      const int max_tokens = 1 + next(20);
      const int priority = next(3);
      std::vector<int32_t> prompt;
      if (next(3) == 0) prompt.assign(shared.begin(), shared.begin() + std::min(prompt_len, 32));
      for (Harness* h : {&tight, &roomy}) {
        auto r = h->MakeRequest(id, prompt_len, max_tokens, prompt);
        r->priority = priority;
        r->eos_token_ids = {kEos};
        ASSERT_TRUE(h->scheduler.AddRequest(std::move(r)).ok()) << "seed " << seed << " id " << id;
      }
      for (int steps = next(3); steps > 0; --steps) {  // arrivals while others run
        tight.StepAsync();
        roomy.Step();
      }
    }
    tight.RunToCompletionAsync(20000);
    roomy.RunToCompletion(20000);
    ASSERT_FALSE(tight.scheduler.HasUnfinished()) << "stuck, seed " << seed;
    EXPECT_EQ(tight.outputs, roomy.outputs) << "seed " << seed;
    EXPECT_EQ(tight.finish_reasons, roomy.finish_reasons) << "seed " << seed;
    EXPECT_EQ(tight.kv.num_free_blocks(), tight.kv.num_total_blocks()) << "seed " << seed;
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace stride::scheduler::testing
