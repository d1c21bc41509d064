// Exact fp32 paged attention for the CUDA runner's `--dtype float32` mode (reference runs checked
// against HuggingFace fp32 goldens). One kernel serves prefill chunks and decode tokens alike:
// every query row attends causally to the keys of its sequence through the block table, with the
// same semantics as cpu::PagedAttention and the bf16 kernels of paged_attention.h. All math is
// fp32 with an online (running max) softmax, so any context length runs without extra memory.
// Written for clarity over speed: one warp per (query row, head), no tensor cores.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace stride::kernels {

struct PagedAttentionF32Params {
  const float* q = nullptr;        // [num_tokens, num_heads, head_dim], RoPE already applied
  float* out = nullptr;            // [num_tokens, num_heads, head_dim]
  const float* k_cache = nullptr;  // [num_blocks, block_size, num_kv_heads, head_dim]
  const float* v_cache = nullptr;
  const int32_t* block_tables = nullptr;  // [num_seqs, max_blocks_per_seq]
  int max_blocks_per_seq = 0;
  const int32_t* query_start = nullptr;   // [num_seqs + 1]: sequence s owns query rows
                                          // [query_start[s], query_start[s + 1])
  const int32_t* context_lens = nullptr;  // [num_seqs]: keys of s, its new tokens included (its
                                          // queries are the last ones)
  int num_seqs = 0;
  int num_heads = 0;
  int num_kv_heads = 0;  // num_heads % num_kv_heads == 0 (GQA)
  int head_dim = 0;      // any even value up to 256
  int block_size = 0;
  int sliding_window = 0;  // 0: full causal; else a query at position p sees keys (p - window, p]
  float scale = 0;
};

// Query row i of sequence s (t = i - query_start[s], L = its query count) sits at position
// context_lens[s] - L + t and attends keys max(0, pos - window + 1) .. pos. Sequences with L = 0
// are skipped; a row with no keys (context_lens[s] < L, e.g. a padding row of context 0) gets
// zeros. Blocks before the window are never read.
//
// The grid is sized from the device alone (its warps stride over the rows), so the launch shape
// does not depend on the batch and can be captured in a CUDA graph. q, out and the caches must be
// 8-byte aligned (float2 loads). Returns cudaErrorInvalidValue for bad parameters (missing
// pointers, head_dim odd or > 256, num_heads % num_kv_heads != 0, block_size <= 0, negative
// window, scale not positive and finite), cudaSuccess at once when num_seqs is 0.
cudaError_t LaunchPagedAttentionF32(const PagedAttentionF32Params& p, cudaStream_t stream);

}  // namespace stride::kernels
