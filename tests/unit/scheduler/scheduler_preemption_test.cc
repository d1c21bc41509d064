// Preemption by recompute, priority, sliding-window models and a randomized run that must
// always finish. The FakeRunner checks every step that each request reads back its own
// tokens' KV, so a recompute that skipped or mixed up tokens fails here.
#include <cstdint>
#include <map>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/scheduler/scheduler_harness.h"

namespace stride::scheduler::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;
using C = ChunkRecord;

TEST(SchedulerPreemptionTest, LatestArrivalIsPreemptedAndResumesWithTheSameTokens) {
  // 6 blocks of 4 tokens; three requests each growing to 6 + 10 = 16 tokens (4 blocks).
  Harness tight(SchedConfig(64), KvConfig(7, 4));
  Harness roomy(SchedConfig(64), KvConfig(64, 4));
  for (Harness* h : {&tight, &roomy}) {
    for (RequestId id = 1; id <= 3; ++id) h->Add(id, 6, 10);
  }
  EXPECT_THAT(tight.Step(), ElementsAre(C{1, 0, 6, true}, C{2, 0, 6, true}, C{3, 0, 6, true}));
  EXPECT_THAT(tight.Step(), ElementsAre(C{1, 6, 1, true}, C{2, 6, 1, true}, C{3, 6, 1, true}));
  EXPECT_THAT(tight.Step(), ElementsAre(C{1, 7, 1, true}, C{2, 7, 1, true}, C{3, 7, 1, true}));
  EXPECT_EQ(tight.kv.num_free_blocks(), 0);
  // Step 4 crosses into third blocks with none free: 3, the latest arrival, goes with its
  // blocks, and the earlier two proceed.
  EXPECT_THAT(tight.Step(), ElementsAre(C{1, 8, 1, true}, C{2, 8, 1, true}));
  EXPECT_THAT(tight.last_output.preempted, ElementsAre(3u));
  const Request* preempted = tight.scheduler.FindRequest(3);
  EXPECT_EQ(preempted->status, RequestStatus::kPreempted);
  EXPECT_EQ(preempted->num_computed_tokens, 0);
  EXPECT_EQ(preempted->num_tokens(), 9);  // prompt + 3 generated tokens kept
  EXPECT_EQ(preempted->num_preemptions, 1);
  EXPECT_EQ(tight.scheduler.num_waiting(), 1);
  tight.RunToCompletion();
  roomy.RunToCompletion();
  EXPECT_GE(tight.scheduler.num_preemptions_total(), 1);
  EXPECT_EQ(roomy.scheduler.num_preemptions_total(), 0);
  EXPECT_EQ(tight.outputs, roomy.outputs);
  for (RequestId id = 1; id <= 3; ++id) EXPECT_EQ(tight.outputs[id].size(), 10u);
  EXPECT_EQ(tight.kv.num_free_blocks(), tight.kv.num_total_blocks());
}

TEST(SchedulerPreemptionTest, ResumedRequestRecomputesPromptAndOutputsThenSamples) {
  kvcache::KvCacheConfig kv_config = KvConfig(7, 4);
  kv_config.enable_prefix_caching = false;  // so nothing of its old KV can be reused
  Harness h(SchedConfig(64), kv_config);
  for (RequestId id = 1; id <= 3; ++id) h.Add(id, 6, 10);
  for (int i = 0; i < 4; ++i) h.Step();  // the fourth preempts 3, holding 9 tokens
  ASSERT_THAT(h.last_output.preempted, ElementsAre(3u));
  // When it comes back it recomputes all 9 known tokens (prompt and outputs) in one chunk
  // and samples its fourth output.
  std::vector<ChunkRecord> resumed;
  while (resumed.empty()) {
    for (const ChunkRecord& c : h.Step()) {
      if (c.id == 3) resumed.push_back(c);
    }
  }
  EXPECT_THAT(resumed, ElementsAre(C{3, 0, 9, true}));
  EXPECT_EQ(h.scheduler.FindRequest(3)->num_cached_tokens, 0);
  h.RunToCompletion();
  EXPECT_EQ(h.outputs[3].size(), 10u);
}

TEST(SchedulerPreemptionTest, LowerRankedRequestIsPreemptedBeforeItRuns) {
  SchedulerConfig config = SchedConfig(64);
  config.policy = SchedulerConfig::Policy::kPriority;
  Harness h(config, KvConfig(4, 4));  // 3 blocks
  h.Add(1, 4, 8, /*priority=*/5);     // admitted first, low rank
  h.Add(2, 3, 8, /*priority=*/0);     // high rank
  // Priority order admits 2 first, then 1: running is [2, 1].
  EXPECT_THAT(h.Step(), ElementsAre(C{2, 0, 3, true}, C{1, 0, 4, true}));
  // 2 decodes at 3 (fits its block); 1 crosses into a second block (ok, 1 left).
  EXPECT_THAT(h.Step(), ElementsAre(C{2, 3, 1, true}, C{1, 4, 1, true}));
  // 2 now needs a second block and none is free: 1, lower ranked and later in running order,
  // is preempted before it runs, and 2 continues alone.
  EXPECT_THAT(h.Step(), ElementsAre(C{2, 4, 1, true}));
  EXPECT_THAT(h.last_output.preempted, ElementsAre(1u));
}

TEST(SchedulerPreemptionTest, VictimScheduledEarlierInTheStepGivesBackItsTokens) {
  SchedulerConfig config = SchedConfig(64);
  config.policy = SchedulerConfig::Policy::kPriority;
  Harness h(config, KvConfig(4, 4));  // 3 blocks
  h.Add(1, 3, 8, /*priority=*/5);
  h.Step();                        // running: [1]
  h.Add(2, 4, 8, /*priority=*/0);  // running: [1, 2]
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 3, 1, true}, C{2, 0, 4, true}));
  // 1, first in running order, crosses into a second block and takes the last free one; 2
  // then needs a block too and preempts 1, already scheduled: 1's chunk is withdrawn (its
  // token goes back to the budget) and only 2 runs.
  EXPECT_THAT(h.Step(), ElementsAre(C{2, 4, 1, true}));
  EXPECT_THAT(h.last_output.preempted, ElementsAre(1u));
  EXPECT_EQ(h.last_output.num_batched_tokens, 1);
  h.RunToCompletion();
  EXPECT_EQ(h.outputs[1].size(), 8u);
  EXPECT_EQ(h.outputs[2].size(), 8u);
}

TEST(SchedulerPreemptionTest, TheRequestBeingScheduledCanBeItsOwnVictim) {
  Harness h(SchedConfig(64), KvConfig(4, 4));  // 3 blocks
  h.Add(1, 4, 8);
  h.Add(2, 4, 8);
  h.Step();
  h.Add(3, 2, 8);
  // 1 and 2 each cross into a second block: 1 takes the last free block; 2 then finds none
  // and is itself the latest arrival among running, so it preempts itself and does not run.
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 4, 1, true}));
  EXPECT_THAT(h.last_output.preempted, ElementsAre(2u));
  // No admission in a step that had to preempt.
  EXPECT_EQ(h.scheduler.num_waiting(), 2);
  EXPECT_EQ(h.scheduler.FindRequest(3)->status, RequestStatus::kWaiting);
  h.RunToCompletion();
  for (RequestId id = 1; id <= 3; ++id) EXPECT_EQ(h.outputs[id].size(), 8u) << id;
}

TEST(SchedulerPreemptionTest, PriorityNewcomerPreemptsLowerRankedRunning) {
  SchedulerConfig config = SchedConfig(64);
  config.policy = SchedulerConfig::Policy::kPriority;
  Harness h(config, KvConfig(5, 4));  // 4 blocks
  h.Add(1, 12, 4, /*priority=*/3);    // 3 blocks, 4 at most
  h.Step();
  h.Add(2, 8, 4, /*priority=*/0);  // needs 2 blocks
  // 1's decode takes the last free block; 2 then preempts 1 (withdrawing its chunk) to get in.
  EXPECT_THAT(h.Step(), ElementsAre(C{2, 0, 8, true}));
  EXPECT_THAT(h.last_output.preempted, ElementsAre(1u));
  // An equal or lower-ranked newcomer never preempts.
  h.Add(3, 8, 4, /*priority=*/3);
  EXPECT_THAT(h.Step(), Contains(C{2, 8, 1, true}));
  EXPECT_THAT(h.last_output.preempted, Not(Contains(2u)));
  h.RunToCompletion();
  EXPECT_EQ(h.outputs[1].size(), 4u);
  EXPECT_EQ(h.outputs[2].size(), 4u);
  EXPECT_EQ(h.outputs[3].size(), 4u);
  EXPECT_EQ(h.kv.num_free_blocks(), h.kv.num_total_blocks());
}

TEST(SchedulerPreemptionTest, NoAdmissionInAStepThatPreempted) {
  SchedulerConfig config = SchedConfig(64);
  config.policy = SchedulerConfig::Policy::kPriority;
  Harness h(config, KvConfig(4, 4));  // 3 blocks
  h.Add(1, 4, 8, /*priority=*/0);
  h.Add(2, 4, 8, /*priority=*/5);
  h.Step();                        // one block each
  h.Add(3, 2, 2, /*priority=*/1);  // ranks between them, needs one block
  // 1 takes the free block; 2 needs one too and is itself the lowest ranked: it preempts
  // itself, freeing a block that 3 could use, but memory is tight, so 3 waits a step.
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 4, 1, true}));
  EXPECT_THAT(h.last_output.preempted, ElementsAre(2u));
  EXPECT_EQ(h.scheduler.FindRequest(3)->status, RequestStatus::kWaiting);
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 5, 1, true}, C{3, 0, 2, true}));
}

TEST(SchedulerSlidingWindowTest, WindowedModelFreesBlocksAndFitsLongRequestsInASmallPool) {
  kvcache::KvCacheConfig kv_config = KvConfig(7, 4);  // 6 blocks of 4 tokens
  kv_config.groups.push_back({kvcache::AttentionKind::kSlidingWindow, /*sliding_window=*/8, {0}});
  Harness h(SchedConfig(8, 4, /*max_model_len=*/200), kv_config);
  // 60 tokens would need 15 blocks with full attention; the window keeps at most
  // ceil((7 + 8) / 4) + 1 = 5 live.
  h.Add(1, 40, 20);
  int max_live = 0;
  while (h.scheduler.HasUnfinished()) {
    h.Step();
    max_live = std::max(max_live, h.kv.num_total_blocks() - h.kv.num_free_blocks());
  }
  EXPECT_LE(max_live, 5);
  EXPECT_EQ(h.outputs[1].size(), 20u);
  EXPECT_EQ(h.kv.num_free_blocks(), h.kv.num_total_blocks());
}

// Deterministic pseudo-random load on a tight pool: every request finishes, nobody reads a
// wrong token, and the outputs equal those of an unconstrained run.
struct StressParams {
  SchedulerConfig::Policy policy;
  bool chunked;
  bool sliding;
  bool prefix_reuse;
};

class SchedulerStressTest : public ::testing::TestWithParam<StressParams> {};

TEST_P(SchedulerStressTest, EveryRequestFinishesWithItsScriptedTokens) {
  const StressParams p = GetParam();
  const SchedulerConfig config = StressConfig(p.policy, p.chunked);
  Harness tight(config, StressPool(/*tight=*/true, p.sliding));
  Harness roomy(config, StressPool(/*tight=*/false, p.sliding));
  Lcg lcg(12345);
  auto next = [&lcg](int bound) { return lcg.Next(bound); };
  std::vector<int32_t> shared = PromptTokens(999, 24);
  std::map<RequestId, int> max_tokens;
  for (RequestId id = 1; id <= 40; ++id) {
    const int prompt_len = 1 + next(40);
    max_tokens[id] = 1 + next(15);
    const int priority = next(3);
    std::vector<int32_t> prompt;
    if (p.prefix_reuse && id % 3 == 0) {
      prompt.assign(shared.begin(), shared.begin() + std::min(prompt_len, 24));
    }
    for (Harness* h : {&tight, &roomy}) {
      auto r = h->MakeRequest(id, prompt_len, max_tokens[id], prompt);
      r->priority = priority;
      ASSERT_TRUE(h->scheduler.AddRequest(std::move(r)).ok()) << id;
    }
    // Requests arrive while others run.
    if (id % 4 == 0) {
      tight.Step();
      roomy.Step();
    }
  }
  tight.RunToCompletion(5000);
  roomy.RunToCompletion(5000);
  ASSERT_FALSE(tight.scheduler.HasUnfinished()) << "stuck";
  EXPECT_GT(tight.scheduler.num_preemptions_total(), 0) << "the pool was not tight enough";
  for (RequestId id = 1; id <= 40; ++id) {
    EXPECT_EQ(tight.outputs[id].size(), static_cast<size_t>(max_tokens[id])) << id;
  }
  EXPECT_EQ(tight.outputs, roomy.outputs);
  EXPECT_EQ(tight.kv.num_free_blocks(), tight.kv.num_total_blocks());
  EXPECT_EQ(roomy.kv.num_free_blocks(), roomy.kv.num_total_blocks());
}

INSTANTIATE_TEST_SUITE_P(
    Variants, SchedulerStressTest,
    ::testing::Values(StressParams{SchedulerConfig::Policy::kFcfs, true, false, false},
                      StressParams{SchedulerConfig::Policy::kFcfs, true, false, true},
                      StressParams{SchedulerConfig::Policy::kPriority, true, false, true},
                      StressParams{SchedulerConfig::Policy::kFcfs, false, false, true},
                      StressParams{SchedulerConfig::Policy::kPriority, false, false, false},
                      StressParams{SchedulerConfig::Policy::kFcfs, true, true, false},
                      StressParams{SchedulerConfig::Policy::kPriority, true, true, false}));

}  // namespace
}  // namespace stride::scheduler::testing
