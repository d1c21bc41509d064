// stride_gpu_bench: kernel and model figures on the GPU against their floors (855 TFLOP/s bf16
// GEMM, 4.28 TB/s copy) or references. `--kernels` or `--model` runs one half; `--quick` keeps
// the model part short.
#include <cstring>

#include "tests/gpu/bench/bench_util.h"

int main(int argc, char** argv) {
  bool kernels = true, model = true, quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--kernels") == 0) model = false;
    if (std::strcmp(argv[i], "--model") == 0) kernels = false;
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
  }
  if (kernels) stride::testing::gpu::RunKernelBenchmarks();
  if (model) stride::testing::gpu::RunModelBenchmarks(quick);
  return 0;
}
