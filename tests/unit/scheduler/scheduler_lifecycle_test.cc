// Admission checks, aborts in every state, and stop conditions.
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scheduler/stop_check.h"
#include "tests/unit/scheduler/scheduler_harness.h"

namespace stride::scheduler::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using C = ChunkRecord;

TEST(SchedulerConfigTest, RejectsBadKnobs) {
  EXPECT_TRUE(SchedConfig(64, 8, 100).Validate().ok());
  EXPECT_THAT(SchedConfig(64, 8, 0).Validate().message(), HasSubstr("max_model_len"));
  EXPECT_THAT(SchedConfig(64, 0, 100).Validate().message(), HasSubstr("max_num_seqs"));
  EXPECT_THAT(SchedConfig(4, 8, 100).Validate().message(), HasSubstr("max_num_batched_tokens"));
  SchedulerConfig whole = SchedConfig(64, 8, 100);
  whole.enable_chunked_prefill = false;
  EXPECT_THAT(whole.Validate().message(), HasSubstr("chunked prefill disabled"));
  kvcache::KvCacheManager kv(KvConfig(8));
  EXPECT_FALSE(Scheduler::Create(whole, &kv).ok());
  EXPECT_TRUE(Scheduler::Create(SchedConfig(64, 8, 100), &kv).ok());
}

TEST(SchedulerAdmissionTest, RejectsRequestsThatCanNeverRun) {
  Harness h(SchedConfig(64, 8, /*max_model_len=*/100), KvConfig(5, 16));  // 4 usable blocks
  absl::Status too_long = h.scheduler.AddRequest(h.MakeRequest(1, 90, 20));
  EXPECT_EQ(too_long.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(too_long.message(), HasSubstr("= 110 exceeds the model's maximum length (100)"));
  // 70 + 10 = 80 tokens, 79 of them cached at most: 5 blocks of 16 > 4.
  absl::Status too_big = h.scheduler.AddRequest(h.MakeRequest(2, 70, 10));
  EXPECT_EQ(too_big.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(too_big.message(), HasSubstr("KV-cache blocks"));
  // 60 + 5 - 1 = 64 tokens: exactly the pool.
  EXPECT_TRUE(h.scheduler.AddRequest(h.MakeRequest(3, 60, 5)).ok());
  EXPECT_EQ(h.scheduler.AddRequest(h.MakeRequest(3, 4, 1)).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(h.scheduler.AddRequest(h.MakeRequest(4, 4, 0)).code(),
            absl::StatusCode::kInvalidArgument);
  auto empty = h.MakeRequest(5, 1, 1);
  empty->token_ids.clear();
  empty->num_prompt_tokens = 0;
  EXPECT_EQ(h.scheduler.AddRequest(std::move(empty)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(h.scheduler.AddRequest(nullptr).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(h.scheduler.num_waiting(), 1);
  h.RunToCompletion();
  EXPECT_EQ(h.outputs[3].size(), 5u);
  EXPECT_EQ(h.kv.num_free_blocks(), h.kv.num_total_blocks());
}

class SchedulerAbortTest : public ::testing::Test {
 protected:
  SchedulerAbortTest() : h(SchedConfig(16), KvConfig(64, 4)) {}

  void ExpectAbortedNow(RequestId id) {
    EXPECT_EQ(h.scheduler.FindRequest(id)->finish_reason, FinishReason::kAbort);
    // Other requests may still hold blocks; the aborted one holds none, at once.
    EXPECT_TRUE(h.kv.BlockTables(id)[0].empty());
    SchedulerOutput next = h.scheduler.Schedule();
    EXPECT_THAT(next.finished, Contains(id));
    for (const ScheduledChunk& c : next.chunks) EXPECT_NE(c.request->id, id);
    EXPECT_EQ(h.scheduler.FindRequest(id), nullptr);  // gone after that Schedule()
    h.scheduler.Update(next, h.runner.Execute(next));
  }

  Harness h;
};

TEST_F(SchedulerAbortTest, WhileWaiting) {
  h.Add(1, 8, 4);
  const int free_before = h.kv.num_free_blocks();
  EXPECT_TRUE(h.scheduler.Abort(1));
  EXPECT_EQ(h.kv.num_free_blocks(), free_before);
  EXPECT_EQ(h.scheduler.num_waiting(), 0);
  EXPECT_FALSE(h.scheduler.HasUnfinished());
  EXPECT_FALSE(h.scheduler.Abort(1));  // finished already
  EXPECT_FALSE(h.scheduler.Abort(99));
  EXPECT_THAT(h.scheduler.Schedule().finished, ElementsAre(1u));
}

TEST_F(SchedulerAbortTest, MidPrefillFreesBlocksTheSameStep) {
  h.Add(1, 40, 4);
  h.Add(2, 4, 8);
  EXPECT_THAT(h.Step(), ElementsAre(C{1, 0, 16, false}));
  EXPECT_LT(h.kv.num_free_blocks(), h.kv.num_total_blocks());
  EXPECT_TRUE(h.scheduler.Abort(1));
  EXPECT_EQ(h.kv.num_free_blocks(), h.kv.num_total_blocks());
  EXPECT_EQ(h.scheduler.num_running(), 0);
  EXPECT_EQ(h.scheduler.num_waiting(), 1);
  EXPECT_THAT(h.Step(), ElementsAre(C{2, 0, 4, true}));
  EXPECT_THAT(h.last_output.finished, ElementsAre(1u));
}

TEST_F(SchedulerAbortTest, WhileDecoding) {
  h.Add(1, 6, 10);
  h.Add(2, 6, 10);
  h.Step();
  h.Step();
  const int held_by_2 = static_cast<int>(h.kv.BlockTables(2)[0].size());
  EXPECT_TRUE(h.scheduler.Abort(1));
  EXPECT_EQ(h.kv.num_free_blocks(), h.kv.num_total_blocks() - held_by_2);
  ExpectAbortedNow(1);
  EXPECT_EQ(h.scheduler.num_running(), 1);
}

TEST_F(SchedulerAbortTest, BetweenScheduleAndUpdate) {
  h.Add(1, 6, 10);
  h.Add(2, 6, 10);
  h.Step();
  SchedulerOutput out = h.scheduler.Schedule();
  ASSERT_EQ(out.chunks.size(), 2u);
  StepOutput step = h.runner.Execute(out);
  EXPECT_TRUE(h.scheduler.Abort(2));  // e.g. the client hung up while the step ran
  std::vector<RequestUpdate> updates = h.scheduler.Update(out, step);
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].request_id, 1u);
  EXPECT_EQ(h.scheduler.FindRequest(2)->num_output_tokens(), 1);  // untouched by Update
  EXPECT_TRUE(h.kv.BlockTables(2)[0].empty());
  EXPECT_THAT(h.scheduler.Schedule().finished, ElementsAre(2u));
}

TEST(SchedulerAbortAfterPreemptionTest, PreemptedRequestHoldsNothingAndAbortsCleanly) {
  Harness h(SchedConfig(64, 8), KvConfig(5, 4));  // 4 blocks of 4 tokens
  h.Add(1, 7, 8);                                 // grows to 14 tokens: 4 blocks
  h.Add(2, 7, 8);
  for (int i = 0; i < 20 && h.scheduler.num_preemptions_total() == 0; ++i) h.Step();
  ASSERT_EQ(h.scheduler.num_preemptions_total(), 1);
  EXPECT_THAT(h.last_output.preempted, ElementsAre(2u));
  EXPECT_EQ(h.scheduler.FindRequest(2)->status, RequestStatus::kPreempted);
  EXPECT_TRUE(h.scheduler.Abort(2));
  EXPECT_EQ(h.scheduler.num_waiting(), 0);
  h.RunToCompletion();
  EXPECT_EQ(h.outputs[1].size(), 8u);
  EXPECT_EQ(h.kv.num_free_blocks(), h.kv.num_total_blocks());
}

// Stop conditions, through the scheduler with scripted tokens.
class SchedulerStopTest : public ::testing::Test {
 protected:
  static constexpr int32_t kEos = 2;
  static constexpr int32_t kStopId = 7;

  SchedulerStopTest() : h(SchedConfig(64), KvConfig(64)) {
    // Outputs: 50, 51, eos, 53, 54, stop, 56, 57, ...
    h.runner.set_script([](RequestId, int k) {
      return k == 2 ? kEos : k == 5 ? kStopId : static_cast<int32_t>(50 + k);
    });
  }

  void Run(SamplingParams sampling) {
    auto r = h.MakeRequest(1, 5, sampling.max_tokens);
    r->sampling = sampling;
    r->eos_token_ids = {kEos, 99};
    ASSERT_TRUE(h.scheduler.AddRequest(std::move(r)).ok());
    h.RunToCompletion();
    EXPECT_EQ(h.kv.num_free_blocks(), h.kv.num_total_blocks());
  }

  Harness h;
};

TEST_F(SchedulerStopTest, EosStopsAndIsKept) {
  SamplingParams s;
  s.max_tokens = 20;
  Run(s);
  EXPECT_THAT(h.outputs[1], ElementsAre(50, 51, kEos));
  EXPECT_EQ(h.finish_reasons[1], FinishReason::kStop);
  ASSERT_FALSE(h.last_updates.empty());
  EXPECT_TRUE(h.last_updates.back().finished());
}

TEST_F(SchedulerStopTest, IgnoreEosRunsOnToAStopTokenId) {
  SamplingParams s;
  s.max_tokens = 20;
  s.ignore_eos = true;
  s.stop_token_ids = {kStopId};
  Run(s);
  EXPECT_THAT(h.outputs[1], ElementsAre(50, 51, kEos, 53, 54, kStopId));
  EXPECT_EQ(h.finish_reasons[1], FinishReason::kStop);
}

TEST_F(SchedulerStopTest, MinTokensSuppressesEarlyStops) {
  SamplingParams s;
  s.max_tokens = 20;
  s.min_tokens = 6;  // the eos (3rd output) is ignored; the stop id (6th) counts
  s.stop_token_ids = {kStopId};
  Run(s);
  EXPECT_THAT(h.outputs[1], ElementsAre(50, 51, kEos, 53, 54, kStopId));
  EXPECT_EQ(h.finish_reasons[1], FinishReason::kStop);
}

TEST_F(SchedulerStopTest, MinTokensPastEveryStopRunsToMaxTokens) {
  SamplingParams s;
  s.max_tokens = 8;
  s.min_tokens = 7;
  s.stop_token_ids = {kStopId};
  Run(s);
  EXPECT_EQ(h.outputs[1].size(), 8u);
  EXPECT_EQ(h.finish_reasons[1], FinishReason::kLength);
}

TEST_F(SchedulerStopTest, MaxTokensWithoutStops) {
  SamplingParams s;
  s.max_tokens = 2;
  Run(s);
  EXPECT_THAT(h.outputs[1], ElementsAre(50, 51));
  EXPECT_EQ(h.finish_reasons[1], FinishReason::kLength);
}

TEST(StopCheckTest, LengthWinsOverStopTokensAndMaxModelLen) {
  Request r;
  r.token_ids = {1, 2, 3, 9};
  r.num_prompt_tokens = 3;
  r.sampling.max_tokens = 1;
  r.eos_token_ids = {9};
  EXPECT_EQ(CheckStop(r, 100), FinishReason::kLength);  // vLLM's order
  r.sampling.max_tokens = 5;
  EXPECT_EQ(CheckStop(r, 100), FinishReason::kStop);
  EXPECT_EQ(CheckStop(r, 4), FinishReason::kLength);  // model length reached
  r.token_ids.back() = 8;
  EXPECT_EQ(CheckStop(r, 100), FinishReason::kNone);
}

}  // namespace
}  // namespace stride::scheduler::testing
