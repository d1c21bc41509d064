// Paged prefill attention, FlashAttention-2 style: one CTA per (work item, KV head) holds 128
// query rows (tokens x the GQA group's heads) in 4 warps of 32 rows each (prefill_tile.cuh);
// 64-key K/V tiles are double-buffered through cp.async, so the loads of tile j + 1 run under
// the MMAs of tile j. 102 KB of shared memory and 255 registers give 2 CTAs per SM.
// An fp8 (e4m3) cache takes the same path with one more step: its tiles are double-buffered as
// e4m3 in a staging area and widened by the whole CTA into one bf16 K/V tile (exact, no scale)
// between two barriers; k_scale folds into the score scale and v_scale into the output's
// normalisation. Double-buffering the staging instead of the bf16 tile keeps the shared memory
// (100 KB) within 2 CTAs per SM.
#include <cmath>
#include <type_traits>

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

// Cache element types: __nv_bfloat16, or __nv_fp8_e4m3 (widened to bf16 in shared memory).
template <typename Cache>
inline constexpr bool kIsFp8 = std::is_same_v<Cache, __nv_fp8_e4m3>;

// bf16: q rows and double-buffered bf16 K/V tiles. fp8: q rows, one bf16 K/V tile, and
// double-buffered e4m3 K/V tiles (unpadded: they are read by row-contiguous widening, not
// ldmatrix).
template <int D, typename Cache>
constexpr int SharedBytes() {
  constexpr int kBf16Rows = kIsFp8<Cache> ? kRows + 2 * kKeys : kRows + 4 * kKeys;
  return kBf16Rows * (D + 8) * static_cast<int>(sizeof(__nv_bfloat16)) +
         (kIsFp8<Cache> ? 2 * 2 * kKeys * D : 0);
}

template <int D, typename Cache>
__global__ void __launch_bounds__(kThreads, 2) PagedPrefillKernel(PagedPrefillParams p) {
  constexpr bool kFp8 = kIsFp8<Cache>;
  constexpr int kStride = D + 8;  // elements per bf16 shared-memory row (16-byte pad)
  constexpr int kChunks = D / 8;  // 16-byte chunks per bf16 row (q, out)
  // The cache is copied in 16-byte pieces of kCopyElems elements: each copying thread takes one
  // column of kRun consecutive keys. Only fp8 at D = 16 leaves threads idle (64 of 128 copy).
  constexpr int kCopyElems = 16 / static_cast<int>(sizeof(Cache));
  constexpr int kCopyChunks = D / kCopyElems;  // 16-byte pieces per cache row
  constexpr int kRun = kKeys * kCopyChunks / kThreads > 1 ? kKeys * kCopyChunks / kThreads : 1;
  constexpr int kCopyRows = kKeys / kRun;  // runs per tile
  static_assert(kRun * kCopyRows == kKeys && kCopyRows * kCopyChunks <= kThreads);
  constexpr int kBuffers = kFp8 ? 1 : 2;  // bf16 K/V tiles
  extern __shared__ __align__(16) unsigned char shared_raw[];
  __nv_bfloat16* q_s = reinterpret_cast<__nv_bfloat16*>(shared_raw);  // [kRows][kStride]
  __nv_bfloat16* k_s = q_s + kRows * kStride;                         // [kBuffers][kKeys][kStride]
  __nv_bfloat16* v_s = k_s + kBuffers * kKeys * kStride;              // [kBuffers][kKeys][kStride]
  // fp8 only: [2 buffers][K, V][kKeys][D] e4m3, the K/V rows of a buffer contiguous, like k_s/v_s.
  unsigned char* stage_s = reinterpret_cast<unsigned char*>(v_s + kBuffers * kKeys * kStride);
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
  const int load_column = (threadIdx.x % kCopyChunks) * kCopyElems;
  const int load_row = threadIdx.x / kCopyChunks;
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
  const Cache* k_cache = static_cast<const Cache*>(p.k_cache);
  const Cache* v_cache = static_cast<const Cache*>(p.v_cache);
  auto load_tile = [&](int tile_index, int buffer) {
    if (kCopyRows * kCopyChunks < kThreads && load_row >= kCopyRows) return;
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
      if constexpr (kFp8) {
        unsigned char* dst = stage_s + (2 * buffer * kKeys + load_row * kRun + i) * D + load_column;
        CpAsync16(dst, k_cache + offset, valid);
        CpAsync16(dst + kKeys * D, v_cache + offset, valid);
      } else {
        const int dst = (buffer * kKeys + load_row * kRun + i) * kStride + load_column;
        CpAsync16(k_s + dst, k_cache + offset, valid);
        CpAsync16(v_s + dst, v_cache + offset, valid);
      }
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
  // fp8: scores are q . k_e4m3 * k_scale, so k_scale joins the softmax scale.
  const float scale_log2 = (kFp8 ? p.scale * p.k_scale : p.scale) * kLog2e;
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
    // Tile t (and q) landed; every warp is done with the other buffer (fp8: done with the bf16
    // tile, and done widening the other staging buffer).
    __syncthreads();
    if (t + 1 < num_tiles) load_tile(t + 1, (t + 1) & 1);
    CpAsyncCommit();
    if constexpr (kFp8) {
      // Every warp widens a share of tile t's K and V rows (k_s and v_s are contiguous), while
      // tile t + 1's copy is in flight; the barrier publishes the whole bf16 tile.
      tile::WidenE4m3Rows<D, 2 * kKeys, kStride, kThreads>(stage_s + (t & 1) * 2 * kKeys * D, k_s);
      __syncthreads();
    }

    const int key0 = tile_begin + t * kKeys;
    // Keys this warp's rows cannot see at all: after its last position, or (windowed) at or
    // before every row's window start. Skipping is exact (they would add nothing).
    if (key0 > warp_hi || (window > 0 && key0 + kKeys - 1 <= warp_lo - window)) continue;
    const int buffer = kFp8 ? 0 : t & 1;
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
  // fp8: v_scale joins the normalisation (o holds p . v_e4m3).
  __nv_bfloat16* out_s = q_s + warp * kWarpRows * kStride;
  const float out_scale = kFp8 ? p.v_scale : 1.0f;
  __syncwarp();
#pragma unroll
  for (int i = 0; i < 2 * kRowBlocks; ++i) {
    const int b = i / 2, h = i % 2;
    const float inv_sum = state.sum[i] > 0.0f ? out_scale / state.sum[i] : 0.0f;
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

template <int D, typename Cache>
cudaError_t Launch(const PagedPrefillParams& p, cudaStream_t stream) {
  constexpr int kShared = SharedBytes<D, Cache>();
  static const cudaError_t attribute = cudaFuncSetAttribute(
      PagedPrefillKernel<D, Cache>, cudaFuncAttributeMaxDynamicSharedMemorySize, kShared);
  if (attribute != cudaSuccess) return attribute;
  const dim3 grid(p.num_work, p.num_kv_heads);
  const cudaError_t launch =
      LaunchPdl(PagedPrefillKernel<D, Cache>, grid, dim3(kThreads), kShared, stream, p);
  return launch != cudaSuccess ? launch : cudaGetLastError();
}

template <int D>
cudaError_t LaunchForCache(const PagedPrefillParams& p, cudaStream_t stream) {
  return p.kv_dtype == DType::kFP8E4M3 ? Launch<D, __nv_fp8_e4m3>(p, stream)
                                       : Launch<D, __nv_bfloat16>(p, stream);
}

}  // namespace

cudaError_t LaunchPagedPrefill(const PagedPrefillParams& p, cudaStream_t stream) {
  if (p.num_work == 0) return cudaSuccess;
  if (p.num_kv_heads <= 0 || p.num_heads % p.num_kv_heads != 0 ||
      p.num_heads / p.num_kv_heads > kRows) {
    return cudaErrorInvalidValue;
  }
  if (p.kv_dtype != DType::kBF16 && p.kv_dtype != DType::kFP8E4M3) return cudaErrorInvalidValue;
  // Checked for bf16 too (where they are unused): a bad scale is a caller bug either way.
  if (!(p.k_scale > 0.0f && std::isfinite(p.k_scale) && p.v_scale > 0.0f &&
        std::isfinite(p.v_scale))) {
    return cudaErrorInvalidValue;
  }
  switch (p.head_dim) {
    case 16:
      return LaunchForCache<16>(p, stream);
    case 32:
      return LaunchForCache<32>(p, stream);
    case 64:
      return LaunchForCache<64>(p, stream);
    case 128:
      return LaunchForCache<128>(p, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace stride::kernels
