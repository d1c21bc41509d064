// stride_gpu_bench: kernel and model figures on the GPU against their floors (855 TFLOP/s bf16
// GEMM, 4.28 TB/s copy) or references. `--kernels` or `--model` runs one half; `--quick` keeps
// the model part short; `--offline=N[,IN,OUT]` runs only the engine throughput benchmark (N prompts
// of IN tokens generating OUT, default 1000/1000; with `--max-num-seqs=K`,
// `--max-num-batched-tokens=T`, `--gemm-candidates=N`, `--gemm-tuned-max-rows=M`,
// `--gpu-memory-utilization=F`, `--fp8-kv-cache` and `--no-async-scheduling` (the synchronous
// loop; asynchronous is CUDA's default) for the engine);
// `--breakdown` only the batch-1 step breakdown and the skinny-GEMM table
// (decode_breakdown_bench.cc); `--decode-attention` or
// `--prefill-attention` only that kernel's benchmark; `--gemm-tuning` the cuBLASLt heuristic
// against measured selection per Llama-8B shape (gemm_tuning_bench.cc); `--gemm-search` every
// cuBLASLt configuration for the decode projections (gemm_search_bench.cc); `--kv-layout` the
// token-major vs head-major KV read probe (kv_layout_probe.cu); `--overlap-probe` decode attention
// of one half-batch beside the other half's projections on two streams (overlap_probe_bench.cc);
// `--read-ceiling` HBM read rates with no math, per-thread loads against bulk copies
// (read_ceiling_probe.cu).
#include <cstdio>
#include <cstring>

#include "tests/gpu/bench/bench_util.h"

int main(int argc, char** argv) {
  bool kernels = true, model = true, quick = false;
  stride::testing::gpu::OfflineOptions offline;
  bool run_offline = false;
  for (int i = 1; i < argc; ++i) {
    if (std::sscanf(argv[i], "--max-num-seqs=%d", &offline.max_num_seqs) == 1) continue;
    if (std::sscanf(argv[i], "--max-num-batched-tokens=%d", &offline.max_num_batched_tokens) == 1) {
      continue;
    }
    if (std::sscanf(argv[i], "--gemm-candidates=%d", &offline.gemm_candidates) == 1) continue;
    if (std::sscanf(argv[i], "--gemm-tuned-max-rows=%d", &offline.gemm_tuned_max_rows) == 1) {
      continue;
    }
    if (std::sscanf(argv[i], "--gpu-memory-utilization=%lf", &offline.gpu_memory_utilization) ==
        1) {
      continue;
    }
    if (std::strcmp(argv[i], "--fp8-kv-cache") == 0) offline.fp8_kv_cache = true;
    if (std::strcmp(argv[i], "--async-scheduling") == 0) offline.async_scheduling = true;
    if (std::strcmp(argv[i], "--no-async-scheduling") == 0) offline.async_scheduling = false;
    if (std::strcmp(argv[i], "--kv-layout") == 0) {
      stride::testing::gpu::RunKvLayoutBenchmarks();
      return 0;
    }
    if (std::strcmp(argv[i], "--read-ceiling") == 0) {
      stride::testing::gpu::RunReadCeilingProbe();
      return 0;
    }
    if (std::strcmp(argv[i], "--overlap-probe") == 0) {
      stride::testing::gpu::RunOverlapProbe();
      return 0;
    }
    if (std::strcmp(argv[i], "--gemm-search") == 0) {
      stride::testing::gpu::RunGemmSearch();
      return 0;
    }
    if (std::strcmp(argv[i], "--gemm-tuning") == 0) {
      stride::testing::gpu::RunGemmTuningBenchmarks();
      return 0;
    }
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
    if (std::sscanf(argv[i], "--offline=%d,%d,%d", &offline.num_prompts, &offline.input_len,
                    &offline.output_len) >= 1) {
      run_offline = true;
    }
  }
  if (run_offline) {
    stride::testing::gpu::RunOfflineBenchmark(offline);
    return 0;
  }
  if (kernels) stride::testing::gpu::RunKernelBenchmarks();
  if (model) stride::testing::gpu::RunModelBenchmarks(quick);
  return 0;
}
