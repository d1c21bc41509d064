#include "engine/runner/cuda/step_profile.h"

#include <cstdio>

namespace stride::engine::runner::cuda {

StepProfile::StepProfile(bool enabled) : enabled_(enabled) {
  if (!enabled_) return;
  if (cudaEventCreate(&start_) != cudaSuccess || cudaEventCreate(&stop_) != cudaSuccess) {
    enabled_ = false;
  }
}

StepProfile::~StepProfile() {
  if (!enabled_) return;
  std::fprintf(stderr,
               "cuda runner profile (ms per step): key steps | meta_build issue wait_device "
               "results | device\n");
  for (const auto& [key, t] : totals_) {
    const double n = t.steps > 0 ? t.steps : 1;
    std::fprintf(stderr, "PROFILE %s%d %d | %.3f %.3f %.3f %.3f | %.3f\n",
                 key < 0 ? "eager_B" : "graph_B", key < 0 ? -key : key, t.steps,
                 t.host_ms[kMetaBuilt] / n, t.host_ms[kIssued] / n, t.host_ms[kSynced] / n,
                 t.host_ms[kDone] / n, t.device_ms / n);
  }
  cudaEventDestroy(start_);
  cudaEventDestroy(stop_);
}

void StepProfile::Begin(int key) {
  if (!enabled_) return;
  key_ = key;
  last_ = std::chrono::steady_clock::now();
}

void StepProfile::Mark(Phase phase, cudaStream_t stream) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  Totals& t = totals_[key_];
  t.host_ms[phase] += std::chrono::duration<double, std::milli>(now - last_).count();
  last_ = now;
  if (phase == kMetaBuilt) cudaEventRecord(start_, stream);
  if (phase == kIssued) cudaEventRecord(stop_, stream);
  if (phase == kDone) {
    float ms = 0;
    if (cudaEventElapsedTime(&ms, start_, stop_) == cudaSuccess) t.device_ms += ms;
    ++t.steps;
  }
}

}  // namespace stride::engine::runner::cuda
