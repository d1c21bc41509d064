// What Scheduler::Update tells the engine about one step: for every chunk that sampled, the
// new token and whether the request finished with it. The engine streams these to the front
// ends; log-probs are in StepOutput::chunks[chunk_index].
#pragma once

#include <cstdint>

#include "scheduler/request.h"

namespace stride::scheduler {

struct RequestUpdate {
  RequestId request_id = 0;
  int chunk_index = 0;  // index into SchedulerOutput::chunks and StepOutput::chunks
  int32_t token_id = 0;
  FinishReason finish_reason = FinishReason::kNone;  // kNone: the request goes on

  bool finished() const { return finish_reason != FinishReason::kNone; }
};

}  // namespace stride::scheduler
