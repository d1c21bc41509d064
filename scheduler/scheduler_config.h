// Knobs of the Sarathi-Serve scheduler, validated once when the engine is built (from flags or
// a serving preset). See ARCHITECTURE.md, "Engine core".
#pragma once

#include "absl/status/status.h"

namespace stride::scheduler {

struct SchedulerConfig {
  enum class Policy {
    kFcfs,      // arrival order
    kPriority,  // (Request::priority, arrival) order, lower first; may preempt to admit
  };

  // Token budget of one step, decodes and prefill chunks together.
  int max_num_batched_tokens = 2048;
  // Requests holding KV at once (running, scheduled or not this step).
  int max_num_seqs = 256;
  // Prompt plus generated tokens of one request; required (> 0).
  int max_model_len = 0;
  // false: a prompt is scheduled only whole (then max_num_batched_tokens >= max_model_len).
  bool enable_chunked_prefill = true;
  Policy policy = Policy::kFcfs;

  // InvalidArgument naming the first bad knob.
  absl::Status Validate() const;
};

}  // namespace stride::scheduler
