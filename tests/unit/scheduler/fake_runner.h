// A model-free runner for scheduler tests. It "samples" scripted tokens (the k-th output of a
// request is script(id, k), so recompute after preemption must reproduce the same text), and
// it simulates the KV cache: every computed token id is written into its slot through the
// chunk's block tables, and every position a query may read (the whole context for full
// attention, the window for sliding-window groups) must read back the right token id. That
// checks block tables, prefix-cache reuse and sliding-window freeing end to end. Under
// asynchronous scheduling a chunk may start at the token the previous step samples, which is
// not in token_ids yet: the script says what it is.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "gtest/gtest.h"
#include "kvcache/block.h"
#include "kvcache/kv_cache_manager.h"
#include "scheduler/scheduler_output.h"
#include "scheduler/step_output.h"

namespace stride::scheduler::testing {

// The k-th generated token of request `id`. Never an EOS unless the test says so.
inline int32_t DefaultScript(RequestId id, int k) {
  return static_cast<int32_t>(1000 + id * 100 + k);
}

class FakeRunner {
 public:
  explicit FakeRunner(const kvcache::KvCacheManager* kv)
      : kv_(kv),
        slots_(
            static_cast<size_t>(kv->num_total_blocks() + 1) * kv->num_groups() * kv->block_size(),
            kEmpty),
        script_(DefaultScript) {}

  void set_script(std::function<int32_t(RequestId, int)> script) { script_ = std::move(script); }

  StepOutput Execute(const SchedulerOutput& output) {
    StepOutput step;
    for (const ScheduledChunk& chunk : output.chunks) {
      const Request& r = *chunk.request;
      CheckAndWrite(chunk);
      ChunkOutput& result = step.chunks.emplace_back();
      result.request_id = r.id;
      result.sampled = chunk.sample;
      if (chunk.sample) {
        const int end = chunk.num_computed_tokens + chunk.num_new_tokens;
        result.next_token.token_id = script_(r.id, end - r.num_prompt_tokens);
      }
    }
    return step;
  }

 private:
  static constexpr int32_t kEmpty = -1;

  int32_t& Slot(int group, kvcache::BlockId block, int offset) {
    const size_t bs = kv_->block_size();
    return slots_[(static_cast<size_t>(block) * kv_->num_groups() + group) * bs + offset];
  }

  // Token `position` of `r`: known, or the one a step in flight is sampling.
  int32_t TokenAt(const Request& r, int position) const {
    return position < r.num_tokens() ? r.token_ids[position]
                                     : script_(r.id, position - r.num_prompt_tokens);
  }

  void CheckAndWrite(const ScheduledChunk& chunk) {
    const Request& r = *chunk.request;
    const int bs = kv_->block_size();
    const int begin = chunk.num_computed_tokens;
    const int end = begin + chunk.num_new_tokens;
    ASSERT_LE(end, r.num_tokens() + 1) << "request " << r.id;
    if (end > r.num_tokens()) {  // a token in flight: only ever the input of a decode chunk
      ASSERT_EQ(chunk.num_new_tokens, 1) << "request " << r.id;
      ASSERT_EQ(end, r.num_tokens() + 1) << "request " << r.id;
      // The step before samples it and this one samples the next: never in the synchronous loop.
      ASSERT_GE(r.num_pending_tokens, 2) << "request " << r.id;
    }
    ASSERT_EQ(chunk.block_tables.size(), static_cast<size_t>(kv_->num_groups()));
    for (int g = 0; g < kv_->num_groups(); ++g) {
      const kvcache::KvCacheGroup& group = kv_->groups()[g];
      const std::vector<kvcache::BlockId>& table = chunk.block_tables[g];
      ASSERT_GE(static_cast<int>(table.size()) * bs, end) << "request " << r.id << " group " << g;
      int first_visible = 0;
      if (group.kind == kvcache::AttentionKind::kSlidingWindow) {
        first_visible = std::max(0, begin - group.sliding_window + 1);
      }
      for (int p = first_visible; p < begin; ++p) {
        kvcache::BlockId block = table[p / bs];
        ASSERT_NE(block, kvcache::kNullBlock) << "request " << r.id << " position " << p;
        ASSERT_EQ(Slot(g, block, p % bs), TokenAt(r, p))
            << "request " << r.id << " reads wrong KV at position " << p << " (group " << g << ")";
      }
      for (int p = begin; p < end; ++p) {
        kvcache::BlockId block = table[p / bs];
        ASSERT_NE(block, kvcache::kNullBlock) << "request " << r.id << " position " << p;
        Slot(g, block, p % bs) = TokenAt(r, p);
      }
    }
  }

  const kvcache::KvCacheManager* kv_;
  std::vector<int32_t> slots_;
  std::function<int32_t(RequestId, int)> script_;
};

}  // namespace stride::scheduler::testing
