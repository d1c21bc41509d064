// Where a CUDA runner step's time goes, for tuning: host time per phase (metadata build, issuing
// the copies and the graph or kernels, waiting for the device, turning results into the
// StepOutput) and the device time between the metadata copy and the last result copy (CUDA
// events). Off unless CudaRunnerOptions::profile (STRIDE_CUDA_PROFILE); then the destructor prints
// per-batch-size means to stderr. Under asynchronous scheduling two steps' phases interleave and
// the figures mean nothing: profile the synchronous loop.
#pragma once

#include <cuda_runtime.h>

#include <chrono>
#include <map>

namespace stride::engine::runner::cuda {

class StepProfile {
 public:
  enum Phase { kStart, kMetaBuilt, kIssued, kSynced, kDone, kNumPhases };

  explicit StepProfile(bool enabled);
  ~StepProfile();
  StepProfile(const StepProfile&) = delete;
  StepProfile& operator=(const StepProfile&) = delete;

  // Starts a step; `key` groups steps (the runner passes the batch size, negative when eager).
  void Begin(int key);
  // Host time stamp for `phase`; kMetaBuilt and kIssued also record a device event on `stream`.
  void Mark(Phase phase, cudaStream_t stream);

 private:
  struct Totals {
    int steps = 0;
    double host_ms[kNumPhases] = {};
    double device_ms = 0;
  };
  bool enabled_ = false;
  int key_ = 0;
  std::chrono::steady_clock::time_point last_;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
  std::map<int, Totals> totals_;
};

}  // namespace stride::engine::runner::cuda
