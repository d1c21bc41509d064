// Paged attention over the KV cache [num_blocks, block_size, num_kv_heads, head_dim] (bf16, or
// fp8 e4m3 with a per-tensor scale: kv_dtype, k_scale, v_scale), the CUDA counterpart of
// cpu::PagedAttention. Queries and outputs are bf16 and accumulation fp32 either way. fp8 K/V
// tiles are converted exactly after they arrive in shared memory: to bf16 tiles in shared memory
// by the prefill kernel, to f16 mma fragments in registers by the decode kernel (f16 mma.sync,
// q as f16 x 2^-8). The scales fold into the score scale (k) and the output (v). Two kernels of
// one family:
//  * prefill: variable-length query chunks, each attending causally to every earlier key of its
//    sequence through its block table (covers whole prompts, chunked prefill and prefix-cache
//    hits). FlashAttention-2 style: online softmax, mma.sync m16n8k16 bf16 tensor-core tiles. The
//    query heads of one KV head are packed into the rows of a tile, so each K/V tile is read once
//    per GQA group. Work is planned on the host (PlanPagedPrefill) and run on the device.
//  * decode: one query per sequence; a CTA per (sequence, KV head, split) whose warps walk
//    interleaved key tiles. With several splits the last CTA of each (sequence, KV head) merges
//    them in the same launch (split counters), or a second kernel does. The split of each
//    sequence's keys is derived on the device from context_lens, so the launch
//    shape depends only on the batch size (CUDA-graph friendly).
// Both honour sliding windows (query at p sees keys (p - window, p]). Key tiles are visited
// through one loop per CTA, where S2-Attention's block skipping will plug in as a per-head tile
// predicate. Supported head_dim: 16, 32, 64, 128 (others: cudaErrorInvalidValue).
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/common/dtype.h"

namespace stride::kernels {

bool PagedAttentionSupportsHeadDim(int head_dim);

// One CTA of prefill work: the query tokens [token_begin, token_begin + tokens per tile) of
// sequence `seq`, for one KV head (grid.y).
struct PrefillWorkItem {
  int32_t seq = 0;
  int32_t token_begin = 0;
};

// Query tokens per CTA: 128 rows hold tokens x the query heads of one KV head.
int PagedPrefillTokensPerTile(int num_heads, int num_kv_heads);

// Work items for the sequences with query_lens[s] > 0, heaviest (most keys) first so the long
// tiles start early. context_lens[s] counts every key of s, its new tokens included.
std::vector<PrefillWorkItem> PlanPagedPrefill(const std::vector<int>& query_lens,
                                              const std::vector<int>& context_lens, int num_heads,
                                              int num_kv_heads, int sliding_window);

struct PagedPrefillParams {
  const __nv_bfloat16* q = nullptr;  // [num_tokens, num_heads, head_dim]
  __nv_bfloat16* out = nullptr;      // [num_tokens, num_heads, head_dim]
  const void* k_cache = nullptr;     // [num_blocks, block_size, num_kv_heads, head_dim] of kv_dtype
  const void* v_cache = nullptr;
  DType kv_dtype = DType::kBF16;  // kBF16 or kFP8E4M3
  float k_scale = 1.0f;           // fp8: a cache element means e4m3 * scale
  float v_scale = 1.0f;
  const int32_t* block_tables = nullptr;  // [num_seqs, max_blocks_per_seq]
  int max_blocks_per_seq = 0;
  const int32_t* query_start = nullptr;   // [num_seqs + 1]: sequence s owns query rows
                                          // [query_start[s], query_start[s + 1])
  const int32_t* context_lens = nullptr;  // [num_seqs]: keys of s (its queries are the last ones)
  const PrefillWorkItem* work = nullptr;  // [num_work], from PlanPagedPrefill
  int num_work = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int block_size = 16;
  int sliding_window = 0;  // 0: full causal
  float scale = 1.0f;
};

cudaError_t LaunchPagedPrefill(const PagedPrefillParams& p, cudaStream_t stream);

struct PagedDecodeParams {
  const __nv_bfloat16* q = nullptr;  // [num_seqs, num_heads, head_dim]: one query per sequence
  __nv_bfloat16* out = nullptr;      // [num_seqs, num_heads, head_dim]
  const void* k_cache = nullptr;     // [num_blocks, block_size, num_kv_heads, head_dim] of kv_dtype
  const void* v_cache = nullptr;
  DType kv_dtype = DType::kBF16;  // kBF16 or kFP8E4M3
  float k_scale = 1.0f;           // fp8: a cache element means e4m3 * scale
  float v_scale = 1.0f;
  const int32_t* block_tables = nullptr;  // [num_seqs, max_blocks_per_seq]
  int max_blocks_per_seq = 0;
  const int32_t* context_lens = nullptr;  // [num_seqs]; the query sits at position len - 1.
                                          // 0 marks a padding row: its output is zero.
  int num_seqs = 0;
  int num_heads = 0;
  int num_kv_heads = 0;  // num_heads / num_kv_heads <= 16
  int head_dim = 0;
  int block_size = 16;  // a power of two
  int sliding_window = 0;
  float scale = 1.0f;
  int num_splits = 1;  // 1..256; > 1 needs workspace of PagedDecodeWorkspaceBytes
  void* workspace = nullptr;
  // With num_splits > 1: [num_seqs * num_kv_heads] counters, zero before the first launch (a
  // cudaMemset once after allocating); every completed launch leaves them zero again, so one
  // buffer serves every launch and graph replay on its stream. With them the last CTA of a
  // (sequence, KV head) merges the splits; without (nullptr) a second kernel does.
  int32_t* split_counters = nullptr;
  // Tuning: keys per warp tile (16 or 32) and warps per CTA (2, 4 or 8); 0 takes the defaults
  // (16x4, or 16x8 when the grid has at most one CTA per SM). Supported: 32x4, 16x4, 16x8, 32x2.
  int tile_keys = 0;
  int warps = 0;
  // Tuning: in grids of at most one CTA per SM (latency-bound) each warp's first K/V tile is
  // prefetched into L2 before the PDL wait; false turns that off (A/B measurements).
  bool l2_prefetch = true;
  // Tuning: the grid as (KV head, sequence, split) instead of (sequence, KV head, split), so the
  // CTAs of one sequence's KV heads start together and read each cache block's rows (token-major:
  // a block's token rows hold every head) at about the same time.
  bool heads_fastest = false;
  // The pool's size in blocks (each cache [num_cache_blocks, block_size, num_kv_heads,
  // head_dim]). When given (> 0), bf16 caches at head_dim 64 or 128 (fp8 at 128, with fp8_tma)
  // with block_size >= 16 and no sliding window, in grids of at least tma_min_ctas CTAs, are
  // read with TMA tensor copies on sm_90 (paged_decode_tma.cu), which needs the caches' extent;
  // otherwise, or with use_tma false, with per-lane cp.async.
  int64_t num_cache_blocks = 0;
  bool use_tma = true;
  int tma_stages = 0;    // Tuning: K/V tile stages per warp (bf16 2 or 3, fp8 4 or 3); 0: 2 / 4
  int tma_min_ctas = 0;  // Tuning: 0: one CTA per SM (132 on an H200)
  // fp8 caches through the TMA kernel too (d128; 7-9 % faster than cp.async at B64 x 4k and
  // B256 x 2k, kernels/NOTES.md round 14); false keeps them on cp.async (A/B measurements).
  bool fp8_tma = true;
};

inline constexpr int kDefaultDecodeTileKeys = 16;
inline constexpr int kDefaultDecodeWarps = 4;

// A split count for the default tiling (3 CTAs per SM), never splitting a sequence into pieces
// shorter than 128 keys: the count that minimises waves x (a CTA's fixed cost + keys per split),
// which is as many as the length allows when all CTAs fit in one wave.
int ChoosePagedDecodeSplits(int num_seqs, int num_kv_heads, int max_context_len,
                            int num_multiprocessors);

size_t PagedDecodeWorkspaceBytes(int num_seqs, int num_heads, int head_dim, int num_splits);

// Launched with programmatic dependent launch (kernels/common/pdl.cuh). context_lens and
// block_tables are read before the wait, so no kernel earlier on the stream may write them (the
// runner copies them before the step's first kernel); q, the caches and the workspace may be.
cudaError_t LaunchPagedDecode(const PagedDecodeParams& p, cudaStream_t stream);

// Whether LaunchPagedDecode(p) reads the tiles with TMA tensor copies (see num_cache_blocks).
bool PagedDecodeUsesTma(const PagedDecodeParams& p);

}  // namespace stride::kernels
