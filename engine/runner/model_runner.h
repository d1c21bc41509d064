// The one interface between the engine loop and a compute backend: run the step the scheduler
// planned, return the sampled tokens and log-probs. The CPU backend (cpu/) is the reference; the
// CUDA backend (cuda/) must agree with it. Runners own the KV-cache memory; block ids in the
// SchedulerOutput index into it.
#pragma once

#include "scheduler/scheduler_output.h"
#include "scheduler/step_output.h"

namespace stride::engine::runner {

class ModelRunner {
 public:
  virtual ~ModelRunner() = default;
  // Called only from the engine loop thread. Returns one ChunkOutput per ScheduledChunk.
  virtual scheduler::StepOutput Execute(const scheduler::SchedulerOutput& output) = 0;
};

}  // namespace stride::engine::runner
