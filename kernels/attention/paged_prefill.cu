// Paged prefill attention: FlashAttention-2 style, one CTA per (work item, KV head), 4 warps of
// 16 query rows each; 64-key K/V tiles double-buffered through cp.async.
#include "kernels/attention/mma_tile.cuh"
#include "kernels/attention/paged_attention.h"

namespace stride::kernels {
namespace {

using attention::CpAsync16;
using attention::CpAsyncCommit;
using attention::CpAsyncWait;
using attention::RowState;

constexpr int kWarps = 4;
constexpr int kRows = 16 * kWarps;
constexpr int kKeys = 64;
constexpr float kLog2e = 1.4426950408889634f;

template <int D>
constexpr int SharedBytes() {
  return (kRows + 4 * kKeys) * (D + 8) * static_cast<int>(sizeof(__nv_bfloat16));
}

template <int D>
__global__ void __launch_bounds__(kWarps * 32) PagedPrefillKernel(PagedPrefillParams p) {
  constexpr int kStride = D + 8;  // elements per shared-memory row (16-byte pad)
  constexpr int kChunks = D / 8;  // 16-byte chunks per row
  extern __shared__ __align__(16) unsigned char shared_raw[];
  __nv_bfloat16* q_s = reinterpret_cast<__nv_bfloat16*>(shared_raw);
  __nv_bfloat16* k_s = q_s + kRows * kStride;        // [2][kKeys][kStride]
  __nv_bfloat16* v_s = k_s + 2 * kKeys * kStride;    // [2][kKeys][kStride]

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
  const int32_t* block_table = p.block_tables + static_cast<int64_t>(item.seq) * p.max_blocks_per_seq;
  const int64_t token_stride = static_cast<int64_t>(p.num_kv_heads) * D;

  // Query rows: row r is token item.token_begin + r / group, head kv_head * group + r % group.
  for (int i = threadIdx.x; i < kRows * kChunks; i += blockDim.x) {
    const int r = i / kChunks, c = i % kChunks;
    const int t = item.token_begin + r / group;
    const bool valid = r < tokens_per_tile * group && t < token_end;
    const __nv_bfloat16* src =
        valid ? p.q + (static_cast<int64_t>(q_start + t) * p.num_heads + kv_head * group +
                       r % group) * D + c * 8
              : p.q;
    CpAsync16(q_s + r * kStride + c * 8, src, valid);
  }
  auto load_tile = [&](int tile, int buffer) {
    const int key0 = tile_begin + tile * kKeys;
    for (int i = threadIdx.x; i < kKeys * kChunks; i += blockDim.x) {
      const int r = i / kChunks, c = i % kChunks;
      const int key = key0 + r;
      const bool valid = key >= key_lo && key < key_end;
      int64_t offset = 0;
      if (valid) {
        const int64_t block = block_table[key / p.block_size];
        offset = (block * p.block_size + key % p.block_size) * token_stride +
                 static_cast<int64_t>(kv_head) * D + c * 8;
      }
      const int dst = (buffer * kKeys + r) * kStride + c * 8;
      CpAsync16(k_s + dst, p.k_cache + offset, valid);
      CpAsync16(v_s + dst, p.v_cache + offset, valid);
    }
  };
  load_tile(0, 0);
  CpAsyncCommit();

  // This lane's two rows and their positions (padding rows reuse the last valid position).
  int row_position[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int row = warp * 16 + lane / 4 + 8 * r;
    const int t = min(item.token_begin + row / group, token_end - 1);
    row_position[r] = first_position + t;
  }
  const float scale_log2 = p.scale * kLog2e;

  uint32_t q_frag[D / 16][4];
  float o[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  RowState state;

  for (int tile = 0; tile < num_tiles; ++tile) {
    CpAsyncWait<0>();
    __syncthreads();  // tile `tile` landed; every warp is done with the other buffer
    if (tile == 0) attention::LoadQFragments<D, kStride>(q_s + warp * 16 * kStride, q_frag);
    if (tile + 1 < num_tiles) load_tile(tile + 1, (tile + 1) & 1);
    CpAsyncCommit();

    const int buffer = tile & 1;
    float s[kKeys / 8][4];
    attention::QkScores<D, kKeys, kStride>(q_frag, k_s + buffer * kKeys * kStride, s);
    const int key0 = tile_begin + tile * kKeys;
    // Only tiles crossing the diagonal or the window's lower edge need per-element masks.
    const bool need_mask = key0 + kKeys - 1 > position_lo || key0 < key_lo ||
                           (window > 0 && key0 <= position_hi - window);
    if (need_mask) {
#pragma unroll
      for (int n = 0; n < kKeys / 8; ++n) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int key = key0 + n * 8 + (lane % 4) * 2 + (e % 2);
          const int position = row_position[e / 2];
          const bool visible = key <= position && (window <= 0 || key > position - window);
          s[n][e] = visible ? s[n][e] * scale_log2 : -INFINITY;
        }
      }
    } else {
#pragma unroll
      for (int n = 0; n < kKeys / 8; ++n) {
#pragma unroll
        for (int e = 0; e < 4; ++e) s[n][e] *= scale_log2;
      }
    }
    attention::OnlineSoftmax<D, kKeys>(s, o, state);
    attention::AccumulatePv<D, kKeys, kStride>(s, v_s + buffer * kKeys * kStride, o);
  }
  attention::FinishRowSums(state);

#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int row = warp * 16 + lane / 4 + 8 * r;
    const int t = item.token_begin + row / group;
    if (row >= tokens_per_tile * group || t >= token_end) continue;
    const float inv_sum = state.sum[r] > 0.0f ? 1.0f / state.sum[r] : 0.0f;
    __nv_bfloat16* dst = p.out + (static_cast<int64_t>(q_start + t) * p.num_heads +
                                  kv_head * group + row % group) * D + (lane % 4) * 2;
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
      *reinterpret_cast<__nv_bfloat162*>(dst + n * 8) =
          __floats2bfloat162_rn(o[n][2 * r] * inv_sum, o[n][2 * r + 1] * inv_sum);
    }
  }
}

template <int D>
cudaError_t Launch(const PagedPrefillParams& p, cudaStream_t stream) {
  constexpr int kShared = SharedBytes<D>();
  static const cudaError_t attribute = cudaFuncSetAttribute(
      PagedPrefillKernel<D>, cudaFuncAttributeMaxDynamicSharedMemorySize, kShared);
  if (attribute != cudaSuccess) return attribute;
  const dim3 grid(p.num_work, p.num_kv_heads);
  PagedPrefillKernel<D><<<grid, kWarps * 32, kShared, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace

cudaError_t LaunchPagedPrefill(const PagedPrefillParams& p, cudaStream_t stream) {
  if (p.num_work == 0) return cudaSuccess;
  if (p.num_kv_heads <= 0 || p.num_heads % p.num_kv_heads != 0 ||
      p.num_heads / p.num_kv_heads > kRows) {
    return cudaErrorInvalidValue;
  }
  switch (p.head_dim) {
    case 16: return Launch<16>(p, stream);
    case 32: return Launch<32>(p, stream);
    case 64: return Launch<64>(p, stream);
    case 128: return Launch<128>(p, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace stride::kernels
