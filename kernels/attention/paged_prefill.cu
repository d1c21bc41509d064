// Paged prefill attention, FlashAttention-2 style: one CTA per (work item, KV head) holds 128
// query rows (tokens x the GQA group's heads) in 4 warps of 32 rows each (prefill_tile.cuh);
// 64-key K/V tiles are double-buffered through cp.async, so the loads of tile j + 1 run under
// the MMAs of tile j. 102 KB of shared memory and 255 registers give 2 CTAs per SM.
#include "kernels/attention/paged_attention.h"
#include "kernels/attention/prefill_tile.cuh"
#include "kernels/common/pdl.cuh"

namespace stride::kernels {
namespace {

using attention::CpAsync16;
using attention::CpAsyncCommit;
using attention::CpAsyncWait;
namespace tile = attention::prefill;

constexpr int kWarps = 4;
constexpr int kRowBlocks = 2;  // m16 row blocks per warp
constexpr int kThreads = kWarps * 32;
constexpr int kWarpRows = 16 * kRowBlocks;
constexpr int kRows = kWarpRows * kWarps;  // query rows per CTA (PagedPrefillTokensPerTile)
constexpr int kKeys = 64;                  // keys per K/V tile
constexpr float kLog2e = 1.4426950408889634f;

template <int D>
constexpr int SharedBytes() {
  return (kRows + 4 * kKeys) * (D + 8) * static_cast<int>(sizeof(__nv_bfloat16));
}

template <int D>
__global__ void __launch_bounds__(kThreads, 2) PagedPrefillKernel(PagedPrefillParams p) {
  constexpr int kStride = D + 8;                    // elements per shared-memory row (16-byte pad)
  constexpr int kChunks = D / 8;                    // 16-byte chunks per row
  constexpr int kRun = kKeys * kChunks / kThreads;  // consecutive keys one thread copies
  static_assert(kRun >= 1 && kRun * kThreads == kKeys * kChunks);
  extern __shared__ __align__(16) unsigned char shared_raw[];
  __nv_bfloat16* q_s = reinterpret_cast<__nv_bfloat16*>(shared_raw);  // [kRows][kStride]
  __nv_bfloat16* k_s = q_s + kRows * kStride;                         // [2][kKeys][kStride]
  __nv_bfloat16* v_s = k_s + 2 * kKeys * kStride;                     // [2][kKeys][kStride]
  AllowDependentLaunch();

  // Work items, query starts, context lengths and block tables are staged before the step's
  // first kernel; q and the KV cache are written by the kernels just before this one.
  const PrefillWorkItem item = p.work[blockIdx.x];
  const int kv_head = blockIdx.y;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int group = p.num_heads / p.num_kv_heads;
  const int tokens_per_tile = kRows / group;
  const int q_start = p.query_start[item.seq];
  const int q_len = p.query_start[item.seq + 1] - q_start;
  const int context_len = p.context_lens[item.seq];
  const int first_position = context_len - q_len;  // position of query token 0
  const int token_end = min(item.token_begin + tokens_per_tile, q_len);
  const int position_lo = first_position + item.token_begin;
  const int position_hi = first_position + token_end - 1;
  const int window = p.sliding_window;
  const int key_lo = window > 0 ? max(0, position_lo - window + 1) : 0;
  const int key_end = position_hi + 1;
  const int tile_begin = key_lo / kKeys * kKeys;
  const int num_tiles = (key_end - tile_begin + kKeys - 1) / kKeys;
  const int32_t* block_table =
      p.block_tables + static_cast<int64_t>(item.seq) * p.max_blocks_per_seq;
  const int token_stride = p.num_kv_heads * D;
  const int load_column = (threadIdx.x % kChunks) * 8;
  const int load_row = threadIdx.x / kChunks;
  WaitForPrecedingGrid();

  // Query rows: row r is token item.token_begin + r / group, head kv_head * group + r % group.
  for (int i = threadIdx.x; i < kRows * kChunks; i += kThreads) {
    const int r = i / kChunks, c = i % kChunks;
    const int t = item.token_begin + r / group;
    const bool valid = r < tokens_per_tile * group && t < token_end;
    const __nv_bfloat16* src =
        valid
            ? p.q +
                  (static_cast<int64_t>(q_start + t) * p.num_heads + kv_head * group + r % group) *
                      D +
                  c * 8
            : p.q;
    CpAsync16(q_s + r * kStride + c * 8, src, valid);
  }
  // Each thread copies one 16-byte column of kRun consecutive keys of a tile. When the block size
  // is a multiple of kRun those keys share one block: one block-table read per tile instead of
  // one per key (with its divisions and 64-bit index math; measured 1.24-1.29x on the kernel).
  // Other block sizes look every key up. Keys outside [key_lo, key_end) are zero-filled, never
  // read: the null block stays untouched.
  const bool one_block_per_run = p.block_size % kRun == 0;
  auto load_tile = [&](int tile_index, int buffer) {
    const int key0 = tile_begin + tile_index * kKeys + load_row * kRun;
    int64_t run_offset = 0;
    if (one_block_per_run && key0 < key_end && key0 + kRun > key_lo) {
      run_offset = (static_cast<int64_t>(block_table[key0 / p.block_size]) * p.block_size +
                    key0 % p.block_size) *
                       token_stride +
                   kv_head * D + load_column;
    }
#pragma unroll
    for (int i = 0; i < kRun; ++i) {
      const int key = key0 + i;
      const bool valid = key >= key_lo && key < key_end;
      int64_t offset = run_offset + i * token_stride;
      if (!one_block_per_run && valid) {
        const int64_t block = block_table[key / p.block_size];
        offset = (block * p.block_size + key % p.block_size) * token_stride +
                 static_cast<int64_t>(kv_head) * D + load_column;
      }
      if (!valid) offset = 0;
      const int dst = (buffer * kKeys + load_row * kRun + i) * kStride + load_column;
      CpAsync16(k_s + dst, static_cast<const __nv_bfloat16*>(p.k_cache) + offset, valid);
      CpAsync16(v_s + dst, static_cast<const __nv_bfloat16*>(p.v_cache) + offset, valid);
    }
  };
  load_tile(0, 0);
  CpAsyncCommit();

  // This lane's four rows (row block b, half h -> 2b + h) and their positions; padding rows
  // reuse the last valid position. The warp's rows span positions [warp_lo, warp_hi].
  int row_position[2 * kRowBlocks];
#pragma unroll
  for (int i = 0; i < 2 * kRowBlocks; ++i) {
    const int row = warp * kWarpRows + (i / 2) * 16 + lane / 4 + 8 * (i % 2);
    row_position[i] = first_position + min(item.token_begin + row / group, token_end - 1);
  }
  const int warp_lo =
      first_position + min(item.token_begin + warp * kWarpRows / group, token_end - 1);
  const int warp_hi =
      first_position +
      min(item.token_begin + (warp * kWarpRows + kWarpRows - 1) / group, token_end - 1);
  const float scale_log2 = p.scale * kLog2e;
  const __nv_bfloat16* q_warp = q_s + warp * kWarpRows * kStride;

  float o[kRowBlocks][D / 8][4];
#pragma unroll
  for (int b = 0; b < kRowBlocks; ++b) {
#pragma unroll
    for (int n = 0; n < D / 8; ++n) o[b][n][0] = o[b][n][1] = o[b][n][2] = o[b][n][3] = 0.0f;
  }
  tile::RowStates<kRowBlocks> state;
  tile::InitRowStates(state);

  for (int t = 0; t < num_tiles; ++t) {
    CpAsyncWait<0>();
    __syncthreads();  // tile t (and q) landed; every warp is done with the other buffer
    if (t + 1 < num_tiles) load_tile(t + 1, (t + 1) & 1);
    CpAsyncCommit();

    const int key0 = tile_begin + t * kKeys;
    // Keys this warp's rows cannot see at all: after its last position, or (windowed) at or
    // before every row's window start. Skipping is exact (they would add nothing).
    if (key0 > warp_hi || (window > 0 && key0 + kKeys - 1 <= warp_lo - window)) continue;
    const int buffer = t & 1;
    float s[kRowBlocks][kKeys / 8][4];
    tile::QkScores<D, kKeys, kStride, kRowBlocks>(q_warp, k_s + buffer * kKeys * kStride, s);
    // Only tiles crossing this warp's diagonal or window edge need per-element masks.
    const bool need_mask =
        key0 + kKeys - 1 > warp_lo || key0 < key_lo || (window > 0 && key0 <= warp_hi - window);
    if (need_mask) {
#pragma unroll
      for (int b = 0; b < kRowBlocks; ++b) {
#pragma unroll
        for (int n = 0; n < kKeys / 8; ++n) {
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int key = key0 + n * 8 + (lane % 4) * 2 + (e % 2);
            const int position = row_position[2 * b + e / 2];
            const bool visible = key <= position && (window <= 0 || key > position - window);
            if (!visible) s[b][n][e] = -INFINITY;
          }
        }
      }
    }
    tile::OnlineSoftmax<D, kKeys, kRowBlocks>(s, o, state, scale_log2);
    tile::AccumulatePv<D, kKeys, kStride, kRowBlocks>(s, v_s + buffer * kKeys * kStride, o);
  }
  tile::FinishRowSums(state);

  // Stage the bf16 outputs in the warp's own q rows (no other warp reads them), then write whole
  // 16-byte chunks: a token's group of heads is contiguous in out.
  __nv_bfloat16* out_s = q_s + warp * kWarpRows * kStride;
  __syncwarp();
#pragma unroll
  for (int i = 0; i < 2 * kRowBlocks; ++i) {
    const int b = i / 2, h = i % 2;
    const float inv_sum = state.sum[i] > 0.0f ? 1.0f / state.sum[i] : 0.0f;
    __nv_bfloat16* row = out_s + (b * 16 + lane / 4 + 8 * h) * kStride + (lane % 4) * 2;
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
      *reinterpret_cast<__nv_bfloat162*>(row + n * 8) =
          __floats2bfloat162_rn(o[b][n][2 * h] * inv_sum, o[b][n][2 * h + 1] * inv_sum);
    }
  }
  __syncwarp();
  for (int i = lane; i < kWarpRows * kChunks; i += 32) {
    const int r = i / kChunks, c = i % kChunks;
    const int row = warp * kWarpRows + r;
    const int t = item.token_begin + row / group;
    if (row >= tokens_per_tile * group || t >= token_end) continue;
    __nv_bfloat16* dst =
        p.out +
        (static_cast<int64_t>(q_start + t) * p.num_heads + kv_head * group + row % group) * D +
        c * 8;
    *reinterpret_cast<uint4*>(dst) = *reinterpret_cast<const uint4*>(out_s + r * kStride + c * 8);
  }
}

template <int D>
cudaError_t Launch(const PagedPrefillParams& p, cudaStream_t stream) {
  constexpr int kShared = SharedBytes<D>();
  static const cudaError_t attribute = cudaFuncSetAttribute(
      PagedPrefillKernel<D>, cudaFuncAttributeMaxDynamicSharedMemorySize, kShared);
  if (attribute != cudaSuccess) return attribute;
  const dim3 grid(p.num_work, p.num_kv_heads);
  const cudaError_t launch =
      LaunchPdl(PagedPrefillKernel<D>, grid, dim3(kThreads), kShared, stream, p);
  return launch != cudaSuccess ? launch : cudaGetLastError();
}

}  // namespace

cudaError_t LaunchPagedPrefill(const PagedPrefillParams& p, cudaStream_t stream) {
  if (p.num_work == 0) return cudaSuccess;
  if (p.num_kv_heads <= 0 || p.num_heads % p.num_kv_heads != 0 ||
      p.num_heads / p.num_kv_heads > kRows) {
    return cudaErrorInvalidValue;
  }
  switch (p.head_dim) {
    case 16:
      return Launch<16>(p, stream);
    case 32:
      return Launch<32>(p, stream);
    case 64:
      return Launch<64>(p, stream);
    case 128:
      return Launch<128>(p, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace stride::kernels
