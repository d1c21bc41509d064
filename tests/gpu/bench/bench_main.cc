// stride_gpu_bench: kernel and model figures on the GPU against their floors (855 TFLOP/s bf16
// GEMM, 4.28 TB/s copy) or references. `--kernels` or `--model` runs one half; `--quick` keeps
// the model part short; `--offline=N[,IN,OUT]` runs only the engine throughput benchmark (N prompts
// of IN tokens generating OUT, default 1000/1000); `--breakdown` only the batch-1 step breakdown
// and the skinny-GEMM table (decode_breakdown_bench.cc); `--decode-attention` or
// `--prefill-attention` only that kernel's benchmark.
#include <cstdio>
#include <cstring>

#include "tests/gpu/bench/bench_util.h"

int main(int argc, char** argv) {
  bool kernels = true, model = true, quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--kernels") == 0) model = false;
    if (std::strcmp(argv[i], "--model") == 0) kernels = false;
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    if (std::strcmp(argv[i], "--decode-attention") == 0) {
      stride::testing::gpu::RunDecodeAttentionBenchmarks();
      return 0;
    }
    if (std::strcmp(argv[i], "--prefill-attention") == 0) {
      stride::testing::gpu::RunPrefillAttentionBenchmarks();
      return 0;
    }
    if (std::strcmp(argv[i], "--breakdown") == 0) {
      stride::testing::gpu::RunDecodeBreakdown();
      return 0;
    }
    int n = 0, in = 1000, out = 1000;
    if (std::sscanf(argv[i], "--offline=%d,%d,%d", &n, &in, &out) >= 1) {
      stride::testing::gpu::RunOfflineBenchmark(n, in, out);
      return 0;
    }
  }
  if (kernels) stride::testing::gpu::RunKernelBenchmarks();
  if (model) stride::testing::gpu::RunModelBenchmarks(quick);
  return 0;
}
