// Who runs, in what order, and how many tokens each: iteration by iteration.
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/scheduler/scheduler_harness.h"

namespace stride::scheduler::testing {
namespace {

using ::testing::ElementsAre;
using C = ChunkRecord;

TEST(SchedulerScheduleTest, PrefillThenOneDecodePerStepUntilMaxTokens) {
  Harness h(SchedConfig(64), KvConfig(64));
  h.Add(1, 10, 3);
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 0, 10, true}));
  EXPECT_EQ(h.scheduler.num_running(), 1);
  EXPECT_EQ(h.scheduler.num_waiting(), 0);
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 10, 1, true}));
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 11, 1, true}));
  EXPECT_EQ(h.finish_reasons[1], FinishReason::kLength);
  EXPECT_THAT(h.outputs[1],
              ElementsAre(DefaultScript(1, 0), DefaultScript(1, 1), DefaultScript(1, 2)));
  EXPECT_FALSE(h.scheduler.HasUnfinished());
  EXPECT_EQ(h.kv.num_free_blocks(), h.kv.num_total_blocks());
  // Its final state is available until the next Schedule(), which reports it as finished.
  std::unique_ptr<Request> done = h.scheduler.TakeFinished(1);
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(done->status, RequestStatus::kFinished);
  EXPECT_EQ(done->num_output_tokens(), 3);
  SchedulerOutput next = h.scheduler.Schedule();
  EXPECT_TRUE(next.empty());
  EXPECT_THAT(next.finished, ElementsAre(1u));
  EXPECT_TRUE(h.scheduler.Schedule().finished.empty());
}

TEST(SchedulerScheduleTest, ChunkBoundariesAtBudget16) {
  Harness h(SchedConfig(16), KvConfig(64, 4));
  h.Add(1, 40, 2);
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 0, 16, false}));
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 16, 16, false}));
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 32, 8, true}));
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 40, 1, true}));
  EXPECT_FALSE(h.scheduler.HasUnfinished());
  EXPECT_EQ(h.last_output.num_batched_tokens, 1);
}

TEST(SchedulerScheduleTest, ChunkBoundariesAtBudget64WithSeveralRequests) {
  Harness h(SchedConfig(64), KvConfig(64));
  h.Add(1, 50, 4);
  h.Add(2, 30, 4);
  h.Add(3, 20, 4);
  // The last admitted prompt is chunked to what is left of the budget.
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 0, 50, true}, C{2, 0, 14, false}));
  EXPECT_EQ(h.last_output.num_batched_tokens, 64);
  // Decodes first, then the partial prefill, then the next waiting prompt.
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 50, 1, true}, C{2, 14, 16, true}, C{3, 0, 20, true}));
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 51, 1, true}, C{2, 30, 1, true}, C{3, 20, 1, true}));
}

TEST(SchedulerScheduleTest, LongPromptNeverDisplacesRunningDecodes) {
  Harness h(SchedConfig(64), KvConfig(256));
  for (RequestId id = 1; id <= 4; ++id) h.Add(id, 8, 100);
  h.Step();  // four 8-token prefills
  h.Add(9, 1000, 4);
  // 1000 = 16 chunks of 60 (what four decodes leave of 64) + 40.
  for (int step = 0; step < 18; ++step) {
    std::vector<ChunkRecord> chunks = h.Step();
    ASSERT_EQ(chunks.size(), 5u) << "step " << step;
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(chunks[i], (C{static_cast<RequestId>(i + 1), 8 + step, 1, true}));
    }
    if (step < 16) {
      EXPECT_EQ(chunks[4], (C{9, 60 * step, 60, false})) << "step " << step;
      EXPECT_EQ(h.last_output.num_batched_tokens, 64);
    } else if (step == 16) {
      EXPECT_EQ(chunks[4], (C{9, 960, 40, true}));
    } else {
      EXPECT_EQ(chunks[4], (C{9, 1000, 1, true}));  // now a decode like the others
    }
  }
}

TEST(SchedulerScheduleTest, MaxNumSeqsCapsRunningRequests) {
  Harness h(SchedConfig(64, /*max_num_seqs=*/2), KvConfig(64));
  h.Add(1, 4, 2);
  h.Add(2, 4, 3);
  h.Add(3, 4, 2);
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 0, 4, true}, C{2, 0, 4, true}));
  EXPECT_EQ(h.scheduler.num_waiting(), 1);
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 4, 1, true}, C{2, 4, 1, true}));  // 1 finishes
  EXPECT_THAT(h.Step(), ElementsAre(C{2, 5, 1, true}, C{3, 0, 4, true}));
}

TEST(SchedulerScheduleTest, FcfsAdmitsInArrivalOrder) {
  Harness h(SchedConfig(16, /*max_num_seqs=*/1), KvConfig(64));
  h.Add(5, 8, 1, /*priority=*/3);
  h.Add(6, 8, 1, /*priority=*/1);
  h.Add(7, 8, 1, /*priority=*/2);
  std::vector<RequestId> order;
  while (h.scheduler.HasUnfinished()) {
    for (const ChunkRecord& c : h.Step()) order.push_back(c.id);
  }
  EXPECT_THAT(order, ElementsAre(5u, 6u, 7u));
}

TEST(SchedulerScheduleTest, PriorityAdmitsLowestValueFirstThenArrival) {
  SchedulerConfig config = SchedConfig(16, /*max_num_seqs=*/1);
  config.policy = SchedulerConfig::Policy::kPriority;
  Harness h(config, KvConfig(64));
  h.Add(5, 8, 1, /*priority=*/3);
  h.Add(6, 8, 1, /*priority=*/1);
  h.Add(7, 8, 1, /*priority=*/2);
  h.Add(8, 8, 1, /*priority=*/1);
  std::vector<RequestId> order;
  while (h.scheduler.HasUnfinished()) {
    for (const ChunkRecord& c : h.Step()) order.push_back(c.id);
  }
  EXPECT_THAT(order, ElementsAre(6u, 8u, 7u, 5u));
}

TEST(SchedulerScheduleTest, WithoutChunkedPrefillAPromptWaitsUntilItFitsWhole) {
  SchedulerConfig config = SchedConfig(64, 8, /*max_model_len=*/64);
  config.enable_chunked_prefill = false;
  Harness h(config, KvConfig(64));
  h.Add(1, 8, 3);
  h.Add(2, 8, 3);
  h.Step();
  h.Add(3, 61, 3);  // two decodes leave 62 of 64
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 8, 1, true}, C{2, 8, 1, true}, C{3, 0, 61, true}));
  h.Add(4, 62, 2);  // three decodes leave 61: it must wait, whole, for room
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 9, 1, true}, C{2, 9, 1, true}, C{3, 61, 1, true}));
  EXPECT_THAT(h.Step(), ElementsAre(C{3, 62, 1, true}, C{4, 0, 62, true}));
}

TEST(SchedulerScheduleTest, WithChunkedPrefillTheSamePromptIsSplit) {
  Harness h(SchedConfig(64, 8, 64), KvConfig(64));
  h.Add(1, 8, 3);
  h.Add(2, 8, 3);
  h.Add(3, 61, 3);
  h.Step();
  h.Step();
  h.Add(4, 62, 2);
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 9, 1, true}, C{2, 9, 1, true}, C{3, 61, 1, true},
                                    C{4, 0, 61, false}));
}

TEST(SchedulerScheduleTest, PrefixCacheHitStartsFromCachedTokens) {
  Harness h(SchedConfig(64), KvConfig(64));
  std::vector<int32_t> prompt = PromptTokens(77, 40);
  ASSERT_TRUE(h.scheduler.AddRequest(h.MakeRequest(1, 0, 1, prompt)).ok());
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 0, 40, true}));
  ASSERT_TRUE(h.scheduler.AddRequest(h.MakeRequest(2, 0, 1, prompt)).ok());
  EXPECT_THAT(h.Step(), ElementsAre(C{2, 32, 8, true}));
  EXPECT_EQ(h.scheduler.FindRequest(2)->num_cached_tokens, 32);
  // Block-aligned prompt: everything hits, only the last token is recomputed.
  std::vector<int32_t> aligned(prompt.begin(), prompt.begin() + 32);
  ASSERT_TRUE(h.scheduler.AddRequest(h.MakeRequest(3, 0, 2, aligned)).ok());
  EXPECT_THAT(h.Step(), ElementsAre(C{3, 31, 1, true}));
  EXPECT_EQ(h.scheduler.FindRequest(3)->num_cached_tokens, 31);
  EXPECT_THAT(h.Step(), ElementsAre(C{3, 32, 1, true}));
  EXPECT_EQ(h.kv.prefix_cache_stats().num_hit_tokens, 32 + 31);
}

TEST(SchedulerScheduleTest, PromptLogprobsRequestsComputeEveryPromptPosition) {
  Harness h(SchedConfig(64), KvConfig(64));
  std::vector<int32_t> prompt = PromptTokens(78, 40);
  ASSERT_TRUE(h.scheduler.AddRequest(h.MakeRequest(1, 0, 1, prompt)).ok());
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 0, 40, true}));
  auto request = h.MakeRequest(2, 0, 1, prompt);
  request->sampling.prompt_logprobs = 0;
  ASSERT_TRUE(h.scheduler.AddRequest(std::move(request)).ok());
  // The cached 32 tokens are not reused: their log-probs must be computed.
  EXPECT_THAT(h.Step(), ElementsAre(C{2, 0, 40, true}));
  EXPECT_EQ(h.kv.prefix_cache_stats().num_hit_tokens, 0);
}

TEST(SchedulerScheduleTest, ChunkBlockTablesCoverTheChunk) {
  Harness h(SchedConfig(16), KvConfig(64, 4));
  h.Add(1, 30, 1);
  SchedulerOutput out = h.scheduler.Schedule();
  ASSERT_EQ(out.chunks.size(), 1u);
  ASSERT_EQ(out.chunks[0].block_tables.size(), 1u);
  EXPECT_EQ(out.chunks[0].block_tables[0].size(), 4u);  // 16 tokens in blocks of 4
  EXPECT_EQ(out.chunks[0].block_tables[0], h.kv.BlockTables(1)[0]);
}

TEST(SchedulerScheduleTest, ReusedOutputIsOverwrittenCompletely) {
  Harness h(SchedConfig(64), KvConfig(64, 4));
  h.Add(1, 10, 2);
  h.Add(2, 3, 2);
  SchedulerOutput out;
  out.chunks.resize(5);
  out.chunks[0].block_tables = {{7, 7, 7, 7, 7, 7, 7}, {7}};
  out.chunks[1].sample = true;
  out.num_batched_tokens = 999;
  out.preempted = {42};
  out.finished = {43};
  h.scheduler.Schedule(&out);
  ASSERT_EQ(out.chunks.size(), 2u);
  EXPECT_EQ(out.chunks[0].request->id, 1u);
  EXPECT_EQ(out.chunks[0].block_tables, h.kv.BlockTables(1));
  EXPECT_EQ(out.chunks[1].request->id, 2u);
  EXPECT_EQ(out.chunks[1].num_new_tokens, 3);
  EXPECT_EQ(out.chunks[1].block_tables, h.kv.BlockTables(2));
  EXPECT_EQ(out.num_batched_tokens, 13);
  EXPECT_TRUE(out.preempted.empty());
  EXPECT_TRUE(out.finished.empty());
  h.scheduler.Update(out, h.runner.Execute(out));
  h.scheduler.Schedule(&out);  // both decode; the second output finishes them
  h.scheduler.Update(out, h.runner.Execute(out));
  h.scheduler.Schedule(&out);
  EXPECT_TRUE(out.chunks.empty());
  EXPECT_EQ(out.num_batched_tokens, 0);
  EXPECT_THAT(out.finished, ElementsAre(1u, 2u));
}

}  // namespace
}  // namespace stride::scheduler::testing
