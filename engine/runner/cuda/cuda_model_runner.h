// The CUDA backend: runs a Llama-family decoder step on one GPU in bf16 (fp32 residual stream and
// accumulation) over a paged KV pool in device memory, reading the same block tables as the CPU
// reference. Batch metadata lives in persistent device buffers filled by one copy per step;
// decode-only steps are captured as CUDA graphs per batch-size bucket and replayed. Logits are
// computed only for rows that sample or report prompt log-probs and are sampled on the device
// (kernels/sampling, bit-compatible with the CPU sampler); only rows the GPU sampler cannot
// serve (e.g. more top log-probs than it keeps) copy their logits to the host sampler.
#pragma once

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/model/model_config.h"
#include "engine/model/weights.h"
#include "engine/runner/model_runner.h"
#include "kernels/common/dtype.h"
#include "kvcache/block.h"

namespace stride::engine::runner::cuda {

struct CudaRunnerOptions {
  int device = 0;
  // Element type of weights, activations and the KV cache. kF32 is the exact mode (full fp32
  // math, fp32 attention kernel, no skinny GEMM): for reference runs, about 2x the memory and
  // several times slower than bf16.
  kernels::DType dtype = kernels::DType::kBF16;
  // Element type of the KV cache: `dtype`, or kFP8E4M3 with bf16 (`--kv-cache-dtype fp8`: half
  // the KV bytes, per-tensor scales of 1 as vLLM uses without calibrated scales).
  kernels::DType kv_dtype = kernels::DType::kBF16;
  bool enable_cuda_graphs = true;
  // Decode steps with more sequences run eagerly. 512: an fp8 KV cache holds 512 sequences of 2k
  // tokens of Llama-3.1-8B on an H200.
  int max_graph_batch = 512;
  // Steps with at most this many token rows run the projections through the skinny-GEMM kernel
  // (kernels/gemm/gemv.h, SiLU fused into gate_up) instead of cuBLASLt; 0 turns it off. 1 by
  // measurement: at m = 2 cuBLASLt is already as fast, at m = 4 and 8 faster (kernels/NOTES.md).
  int max_gemv_rows = 1;
  // cuBLASLt algorithm choice for projections of at most gemm_tuned_max_rows rows (the decode
  // graphs' shapes): the fastest of the heuristic's first gemm_candidates, timed at the shape's
  // first (eager) use; 1 takes the heuristic's first answer untimed. 1 by measurement: timed on
  // the step's own (L2-warm) weights, the picks were 3-30 % faster in isolation but cost 1.4 %
  // offline, where every layer's weights come cold from HBM (kernels/NOTES.md round 7). Timed
  // with L2 evicted before each run, the picks still gain nothing offline while the timing costs
  // ~2 s of a 100 s run (round 10).
  int gemm_candidates = 1;
  int gemm_tuned_max_rows = 512;
  // The scheduler's limits (0: not known). The runner sizes its buffers for them when it starts,
  // so no step has to grow one: a growth drains the stream (a step in flight under asynchronous
  // scheduling included) and drops the captured graphs. It also runs every cuBLASLt shape a step
  // within them can use once (a shape's first call waits for the device to drain). Without them
  // buffers grow and shapes are planned on demand.
  int max_num_seqs = 0;
  int max_num_batched_tokens = 0;
  // Diagnostics to stderr (CreateCudaModelRunner also turns them on from the environment:
  // STRIDE_CUDA_PROFILE, STRIDE_CUDA_TRACE=N). `profile`: host and device time per step phase
  // at exit (engine/runner/cuda/step_profile.h); `trace_events`: the host's timeline of the
  // first N launch events (step_trace.h).
  bool profile = false;
  int trace_events = 0;
  // Decode attention reads its KV tiles with TMA tensor copies where it can (bf16 cache, head_dim
  // 64 / 128, sm_90: paged_decode_tma.cu); false keeps the per-lane cp.async kernel (A/B
  // measurements; STRIDE_CUDA_DECODE_TMA=0 in the environment).
  bool decode_tma = true;
  // Decode attention's grid as (KV head, sequence): a sequence's KV heads start together and
  // read each cache block's token rows at about the same time (STRIDE_CUDA_DECODE_HEADS_FASTEST=0
  // turns it off).
  bool decode_heads_fastest = true;
  // fp8 caches (d128) through the TMA decode kernel too (PagedDecodeParams::fp8_tma: 7-9 % more
  // bandwidth at B64 x 4k and B256 x 2k, kernels/NOTES.md round 14; STRIDE_CUDA_DECODE_FP8_TMA=0
  // turns it off).
  bool decode_fp8_tma = true;
};

// OK when the CUDA backend can page its KV cache in blocks of `block_size` tokens: a power of two
// (the decode kernel maps keys to blocks by shift and mask). CreateEngine asks before it loads
// the weights.
absl::Status CudaBlockSizeSupported(int block_size);

// Checks the model against what the kernels support (head_dim 16/32/64/128 in bf16, any even
// head_dim up to 256 in fp32; GQA group <= 64; CudaBlockSizeSupported(kv.block_size)), uploads
// the weights and allocates kv.num_blocks KV blocks for every layer.
absl::StatusOr<std::unique_ptr<ModelRunner>> CreateCudaModelRunner(
    const model::ModelConfig& config, const model::ModelWeights& weights,
    const kvcache::KvCacheConfig& kv, const CudaRunnerOptions& options = {});

// cuBLASLt shapes `runner` (made by CreateCudaModelRunner) has planned: when it started (with the
// scheduler's limits given, every shape a step can use is warmed then) and in all; {0, 0} for
// another runner.
struct CudaGemmPlans {
  int at_start = 0;
  int total = 0;
};
CudaGemmPlans CudaGemmPlanCounts(const ModelRunner& runner);

// Bytes of KV cache per block across all layers (K and V of `kv_dtype`).
int64_t CudaKvBytesPerBlock(const model::ModelConfig& config, int block_size,
                            kernels::DType kv_dtype = kernels::DType::kBF16);

// How many KV blocks fit once weights and activations for max_num_batched_tokens tokens and the
// logits of max_num_seqs rows are set aside (as the runner sizes them: powers of two), keeping the
// process's total use of the device under gpu_memory_utilization of its memory. Call before
// CreateCudaModelRunner (it counts the weights as not yet uploaded).
absl::StatusOr<int> CudaKvBlocksForMemory(const model::ModelConfig& config, int block_size,
                                          double gpu_memory_utilization, int max_num_batched_tokens,
                                          int max_num_seqs, int device = 0,
                                          kernels::DType dtype = kernels::DType::kBF16,
                                          kernels::DType kv_dtype = kernels::DType::kBF16);

}  // namespace stride::engine::runner::cuda
