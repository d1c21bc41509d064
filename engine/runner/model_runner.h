// The one interface between the engine loop and a compute backend: run the step the scheduler
// planned, return the sampled tokens and log-probs. The CPU backend (cpu/) is the reference; the
// CUDA backend (cuda/) must agree with it. Runners own the KV-cache memory; block ids in the
// SchedulerOutput index into it.
#pragma once

#include <deque>
#include <utility>

#include "base/check.h"
#include "scheduler/scheduler_output.h"
#include "scheduler/step_output.h"

namespace stride::engine::runner {

class ModelRunner {
 public:
  virtual ~ModelRunner() = default;
  // Called only from the engine loop thread. Returns one ChunkOutput per ScheduledChunk.
  virtual scheduler::StepOutput Execute(const scheduler::SchedulerOutput& output) = 0;

  // Asynchronous scheduling (scheduler/scheduler.h): the engine launches step N+1 before it
  // takes step N's results. A runner that supports it takes a decode chunk's input token that is
  // not in the request's token_ids yet from the step launched just before (the token it sampled
  // there for that request), and samples as if that token were appended. Launch starts a step;
  // Finish returns the results of the oldest launched step not yet finished. The defaults run
  // the step inside Launch (a runner that computes on the calling thread needs nothing more);
  // a device runner overrides them to return before the device is done.
  virtual bool SupportsAsyncScheduling() const { return false; }
  virtual void Launch(const scheduler::SchedulerOutput& output) {
    launched_.push_back(Execute(output));
  }
  virtual scheduler::StepOutput Finish() {
    STRIDE_CHECK(!launched_.empty()) << "Finish() without a Launch()";
    scheduler::StepOutput step = std::move(launched_.front());
    launched_.pop_front();
    return step;
  }

 private:
  std::deque<scheduler::StepOutput> launched_;
};

}  // namespace stride::engine::runner
