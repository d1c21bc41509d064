// What the scheduler decided for one step: the runner's only input. Plain data; the Request
// pointers stay valid (and unchanged) until Scheduler::Update for this step returns.
#pragma once

#include <cstdint>
#include <vector>

#include "kvcache/block.h"
#include "scheduler/request.h"

namespace stride::scheduler {

// "Compute tokens [num_computed_tokens, num_computed_tokens + num_new_tokens) of this request".
// Prefill, chunked prefill, decode and recompute after preemption are all this one shape.
struct ScheduledChunk {
  const Request* request = nullptr;
  // KV cached (or written by an earlier step still in flight, which runs first on the device)
  // for positions [0, num_computed_tokens).
  int num_computed_tokens = 0;
  int num_new_tokens = 0;
  // True when the chunk reaches the last known token: the runner samples the next token.
  bool sample = false;
  // Asynchronous scheduling only: a position at or past request->num_tokens() holds a token that
  // the previous step is still sampling for this request (at most one, in a decode chunk); the
  // runner takes it from that step's result. The token this chunk samples is output number
  // num_computed_tokens + num_new_tokens - request->num_prompt_tokens.
  // Block tables, one per KV-cache group (kvcache::KvCacheConfig::groups order), covering at
  // least positions [0, num_computed_tokens + num_new_tokens). Blocks that fell out of a
  // sliding window are kvcache::kNullBlock.
  std::vector<std::vector<kvcache::BlockId>> block_tables;
};

struct SchedulerOutput {
  std::vector<ScheduledChunk> chunks;  // decodes first, then prefill chunks
  int num_batched_tokens = 0;          // sum of num_new_tokens
  std::vector<RequestId> preempted;    // preempted this step (their KV is gone)
  std::vector<RequestId> finished;     // finished or aborted since the last step

  bool empty() const { return chunks.empty(); }
};

}  // namespace stride::scheduler
