// Timing for stride_gpu_bench: CUDA-event medians after warm-up, and one result line per figure
// (name, shape, measured, floor or reference, ratio) that run.sh collects into its table.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "tests/gpu/gpu_test_util.h"

namespace stride::testing::gpu {

// Median milliseconds of `fn` (launches on `stream`, the default one unless given; it may fork to
// other streams and join back) over `iterations` runs.
inline double MedianMs(const std::function<void()>& fn, int warmup = 3, int iterations = 20,
                       cudaStream_t stream = nullptr) {
  for (int i = 0; i < warmup; ++i) fn();
  GPU_CHECK(cudaDeviceSynchronize());
  cudaEvent_t start, stop;
  GPU_CHECK(cudaEventCreate(&start));
  GPU_CHECK(cudaEventCreate(&stop));
  std::vector<double> times;
  for (int i = 0; i < iterations; ++i) {
    GPU_CHECK(cudaEventRecord(start, stream));
    fn();
    GPU_CHECK(cudaEventRecord(stop, stream));
    GPU_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    GPU_CHECK(cudaEventElapsedTime(&ms, start, stop));
    times.push_back(ms);
  }
  GPU_CHECK(cudaGetLastError());
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// "RESULT <name> | <shape> | <value> <unit> | reference <ref> <unit> | ratio <value/ref>"
inline void Report(const std::string& name, const std::string& shape, double value,
                   const std::string& unit, double reference, const std::string& note) {
  std::printf("RESULT %-28s | %-34s | %10.3f %-8s | %s %.3f | ratio %.3f\n", name.c_str(),
              shape.c_str(), value, unit.c_str(), note.c_str(), reference, value / reference);
  std::fflush(stdout);
}

void RunKernelBenchmarks();
void RunDecodeAttentionBenchmarks();
void RunPrefillAttentionBenchmarks();
void RunDecodeBreakdown();
void RunGemmTuningBenchmarks();
void RunGemmSearch();
void RunKvLayoutBenchmarks();
void RunOverlapProbe();
void RunReadCeilingProbe();
void RunModelBenchmarks(bool quick);
struct OfflineOptions {
  int num_prompts = 1000;
  int input_len = 1000;
  int output_len = 1000;
  int max_num_seqs = 256;
  int max_num_batched_tokens = 8192;  // the step's token budget (chunked prefill)
  int gemm_candidates = 1;            // cuBLASLt algorithms timed per GEMM shape ...
  int gemm_tuned_max_rows = 512;      // ... of at most this many rows
  double gpu_memory_utilization = 0.9;
  bool fp8_kv_cache = false;          // --kv-cache-dtype fp8
  bool async_scheduling = true;       // EngineOptions::async_scheduling (CUDA's default)
};
void RunOfflineBenchmark(const OfflineOptions& options);

}  // namespace stride::testing::gpu
