// The host's timeline of the runner's first steps, for finding where it waits on the device
// (under asynchronous scheduling, a wait in Launch delays the previous step's results). Off
// unless CudaRunnerOptions::trace_events (STRIDE_CUDA_TRACE=N) is N > 0; then the first N events
// print to stderr, each with the milliseconds since the runner started.
#pragma once

#include <chrono>
#include <cstdio>

namespace stride::engine::runner::cuda {

class StepTrace {
 public:
  explicit StepTrace(int events) : lines_left_(events) {}

  // `what` happened now, in launch number `step`.
  void Note(const char* what, long step) {
    if (lines_left_ <= 0) return;
    --lines_left_;
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_)
            .count();
    std::fprintf(stderr, "trace %10.2f ms  launch %ld  %s\n", ms, step, what);
  }

 private:
  int lines_left_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace stride::engine::runner::cuda
