// Paged decode attention: one query per sequence. A CTA per (sequence, KV head, split) packs the
// GQA group's query heads into the 16 rows of one mma tile; its warps (4 by default) walk
// interleaved key tiles (16 keys by default: 73 KB of shared memory, 3 CTAs per SM) of the split
// with private cp.async double buffers, the block ids of a warp's next tile fetched one tile
// ahead. The warps then merge their softmax states through their (now idle) K/V buffers: each
// writes its rescaled accumulator, and the CTA sums them in a fixed order (no atomics). With
// several splits a second kernel merges the splits by log-sum-exp.
#include "kernels/attention/mma_tile.cuh"
#include "kernels/attention/paged_attention.h"

namespace stride::kernels {
namespace {

using attention::CpAsync16;
using attention::CpAsyncCommit;
using attention::CpAsyncWait;
using attention::RowState;

constexpr int kRows = 16;
constexpr float kLog2e = 1.4426950408889634f;

// kKeys keys per warp tile, kWarps warps per CTA (PagedDecodeParams::tile_keys / warps): q, then
// per warp K[2][kKeys] and V[2][kKeys] (rows padded by 16 bytes), then the warps' row maxima and
// sums. After the key loop a warp's K/V buffers hold its [kRows][D + 8] fp32 accumulator.
template <int D, int kKeys, int kWarps>
constexpr int SharedBytes() {
  return (kRows + kWarps * 4 * kKeys) * (D + 8) * static_cast<int>(sizeof(__nv_bfloat16)) +
         2 * kWarps * kRows * static_cast<int>(sizeof(float));
}

// Split `split` of a sequence's visible keys [lo, len) in kKeys-aligned pieces.
template <int kKeys>
__device__ __forceinline__ void SplitRange(int context_len, int window, int num_splits, int split,
                                           int* begin, int* end) {
  const int lo = window > 0 ? max(0, context_len - window) : 0;
  const int span = context_len - lo;
  const int tiles = (span + kKeys - 1) / kKeys;
  const int tiles_per_split = (tiles + num_splits - 1) / num_splits;
  *begin = min(context_len, lo + split * tiles_per_split * kKeys);
  *end = min(context_len, lo + (split + 1) * tiles_per_split * kKeys);
}

template <int D, int kKeys, int kWarps>
__global__ void __launch_bounds__(kWarps * 32) PagedDecodeKernel(PagedDecodeParams p) {
  constexpr int kStride = D + 8;
  constexpr int kChunks = D / 8;          // 16-byte chunks per key row
  constexpr int kKeyStep = 32 / kChunks;  // keys apart between one lane's chunks
  constexpr int kPerLane = kKeys * kChunks / 32;
  constexpr int kOutStride = D + 8;       // fp32 accumulator rows (conflict-free float2 stores)
  static_assert(32 % kChunks == 0 && kPerLane * 32 == kKeys * kChunks, "tile / lane mapping");
  static_assert(kRows * kOutStride * 4 <= 4 * kKeys * kStride * 2, "accumulator fits K/V buffers");
  extern __shared__ __align__(16) unsigned char shared_raw[];
  __nv_bfloat16* q_s = reinterpret_cast<__nv_bfloat16*>(shared_raw);
  __nv_bfloat16* kv_s = q_s + kRows * kStride;  // per warp: K[2][kKeys], V[2][kKeys]
  // [kWarps][kRows] each:
  float* warp_max = reinterpret_cast<float*>(kv_s + kWarps * 4 * kKeys * kStride);
  float* warp_sum = warp_max + kWarps * kRows;

  const int seq = blockIdx.x, kv_head = blockIdx.y, split = blockIdx.z;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int group = p.num_heads / p.num_kv_heads;
  for (int i = threadIdx.x; i < kRows * kChunks; i += blockDim.x) {
    const int r = i / kChunks, c = i % kChunks;
    const bool valid = r < group;
    const __nv_bfloat16* src =
        valid ? p.q + (static_cast<int64_t>(seq) * p.num_heads + kv_head * group + r) * D + c * 8
              : p.q;
    CpAsync16(q_s + r * kStride + c * 8, src, valid);
  }
  CpAsyncCommit();

  const int context_len = p.context_lens[seq];
  int key_begin, key_end;
  SplitRange<kKeys>(context_len, p.sliding_window, p.num_splits, split, &key_begin, &key_end);
  const int num_tiles = (key_end - key_begin + kKeys - 1) / kKeys;
  const int32_t* block_table = p.block_tables + static_cast<int64_t>(seq) * p.max_blocks_per_seq;
  const int64_t token_stride = static_cast<int64_t>(p.num_kv_heads) * D;
  const __nv_bfloat16* k_head = p.k_cache + static_cast<int64_t>(kv_head) * D;
  const __nv_bfloat16* v_head = p.v_cache + static_cast<int64_t>(kv_head) * D;

  __nv_bfloat16* k_w = kv_s + warp * 4 * kKeys * kStride;  // [2][kKeys][kStride]
  __nv_bfloat16* v_w = k_w + 2 * kKeys * kStride;
  // Lane l copies chunk l % kChunks of keys l / kChunks + j * kKeyStep of a tile; `blocks`
  // holds the block ids of those keys for the next tile to issue (fetched a tile ahead).
  const int lane_chunk = lane % kChunks, lane_key = lane / kChunks;
  int32_t blocks[kPerLane];
  auto fetch_blocks = [&](int tile) {
    const int key0 = key_begin + tile * kKeys + lane_key;
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int key = key0 + j * kKeyStep;
      blocks[j] = key < key_end ? block_table[key / p.block_size] : 0;
    }
  };
  auto issue_tile = [&](int tile, int buffer) {
    const int key0 = key_begin + tile * kKeys + lane_key;
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int key = key0 + j * kKeyStep;
      const bool valid = key < key_end;
      const int64_t offset =
          valid ? (static_cast<int64_t>(blocks[j]) * p.block_size + key % p.block_size) *
                          token_stride + lane_chunk * 8
                : 0;
      const int dst = (buffer * kKeys + lane_key + j * kKeyStep) * kStride + lane_chunk * 8;
      CpAsync16(k_w + dst, k_head + offset, valid);
      CpAsync16(v_w + dst, v_head + offset, valid);
    }
  };

  // Warp w takes tiles w, w + kWarps, ...
  if (warp < num_tiles) {
    fetch_blocks(warp);
    issue_tile(warp, 0);
    if (warp + kWarps < num_tiles) fetch_blocks(warp + kWarps);
  }
  CpAsyncCommit();
  CpAsyncWait<1>();
  __syncthreads();  // q_s ready (the first K/V tile may still be in flight)
  uint32_t q_frag[D / 16][4];
  attention::LoadQFragments<D, kStride>(q_s, q_frag);
  float o[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  RowState state;
  const float scale_log2 = p.scale * kLog2e;

  for (int tile = warp, i = 0; tile < num_tiles; tile += kWarps, ++i) {
    CpAsyncWait<0>();
    __syncwarp();
    if (tile + kWarps < num_tiles) {
      issue_tile(tile + kWarps, (i + 1) & 1);
      if (tile + 2 * kWarps < num_tiles) fetch_blocks(tile + 2 * kWarps);
    }
    CpAsyncCommit();
    const int buffer = i & 1;
    float s[kKeys / 8][4];
    attention::QkScores<D, kKeys, kStride>(q_frag, k_w + buffer * kKeys * kStride, s);
    const int key0 = key_begin + tile * kKeys;
    if (key0 + kKeys > key_end) {
#pragma unroll
      for (int n = 0; n < kKeys / 8; ++n) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int key = key0 + n * 8 + (lane % 4) * 2 + (e % 2);
          s[n][e] = key < key_end ? s[n][e] * scale_log2 : -INFINITY;
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
    attention::AccumulatePv<D, kKeys, kStride>(s, v_w + buffer * kKeys * kStride, o);
    __syncwarp();
  }
  CpAsyncWait<0>();
  attention::FinishRowSums(state);

  // Merge the warps: each rescales its accumulator to the CTA-wide row maximum and stores it in
  // its own K/V buffers; the CTA then adds the kWarps copies in a fixed order.
  if (lane % 4 == 0) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      warp_max[warp * kRows + lane / 4 + 8 * r] = state.max[r];
      warp_sum[warp * kRows + lane / 4 + 8 * r] = state.sum[r];
    }
  }
  __syncthreads();
  float* acc_w = reinterpret_cast<float*>(k_w);  // [kRows][kOutStride]
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int row = lane / 4 + 8 * r;
    float row_max = -INFINITY;
    for (int w = 0; w < kWarps; ++w) row_max = fmaxf(row_max, warp_max[w * kRows + row]);
    const float factor = state.max[r] == -INFINITY ? 0.0f : exp2f(state.max[r] - row_max);
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
      const int col = n * 8 + (lane % 4) * 2;
      *reinterpret_cast<float2*>(acc_w + row * kOutStride + col) =
          make_float2(o[n][2 * r] * factor, o[n][2 * r + 1] * factor);
    }
  }
  __syncthreads();

  const float* acc = reinterpret_cast<const float*>(kv_s);
  constexpr int kWarpFloats = 4 * kKeys * kStride / 2;  // one warp's K/V buffers, in floats
  for (int i = threadIdx.x; i < group * D; i += blockDim.x) {
    const int row = i / D, d = i % D;
    float row_max = -INFINITY;
    for (int w = 0; w < kWarps; ++w) row_max = fmaxf(row_max, warp_max[w * kRows + row]);
    float sum = 0.0f, total = 0.0f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) {
      const float m = warp_max[w * kRows + row];
      if (m != -INFINITY) sum += warp_sum[w * kRows + row] * exp2f(m - row_max);
      total += acc[w * kWarpFloats + row * kOutStride + d];
    }
    const float value = sum > 0.0f ? total / sum : 0.0f;
    const int64_t head = static_cast<int64_t>(seq) * p.num_heads + kv_head * group + row;
    if (p.num_splits == 1) {
      p.out[head * D + d] = __float2bfloat16(value);
    } else {
      float* partial_out = static_cast<float*>(p.workspace);
      float* partial_lse = partial_out + static_cast<int64_t>(p.num_seqs) * p.num_heads *
                                             p.num_splits * D;
      partial_out[(head * p.num_splits + split) * D + d] = value;
      if (d == 0) {
        partial_lse[head * p.num_splits + split] = sum > 0.0f ? row_max + log2f(sum) : -INFINITY;
      }
    }
  }
}

// out[s, h] = sum over splits of exp2(lse_i - max) * o_i / sum of exp2(lse_i - max).
__global__ void MergeSplitsKernel(PagedDecodeParams p) {
  const int64_t head = static_cast<int64_t>(blockIdx.x) * p.num_heads + blockIdx.y;
  const float* partial_out = static_cast<const float*>(p.workspace);
  const float* partial_lse =
      partial_out + static_cast<int64_t>(p.num_seqs) * p.num_heads * p.num_splits * p.head_dim;
  const float* lse = partial_lse + head * p.num_splits;
  float lse_max = -INFINITY;
  for (int i = 0; i < p.num_splits; ++i) lse_max = fmaxf(lse_max, lse[i]);
  for (int d = threadIdx.x; d < p.head_dim; d += blockDim.x) {
    float numerator = 0.0f, denominator = 0.0f;
    if (lse_max != -INFINITY) {
      for (int i = 0; i < p.num_splits; ++i) {
        if (lse[i] == -INFINITY) continue;
        const float w = exp2f(lse[i] - lse_max);
        numerator += w * partial_out[(head * p.num_splits + i) * p.head_dim + d];
        denominator += w;
      }
    }
    p.out[head * p.head_dim + d] =
        __float2bfloat16(denominator > 0.0f ? numerator / denominator : 0.0f);
  }
}

template <int D, int kKeys, int kWarps>
cudaError_t LaunchVariant(const PagedDecodeParams& p, cudaStream_t stream) {
  constexpr int kShared = SharedBytes<D, kKeys, kWarps>();
  // Once per variant (never per launch): the dynamic shared-memory size, and the whole carveout
  // as shared memory so that three 73 KB CTAs fit on an SM.
  static const cudaError_t attribute = [] {
    const cudaError_t e = cudaFuncSetAttribute(
        PagedDecodeKernel<D, kKeys, kWarps>, cudaFuncAttributeMaxDynamicSharedMemorySize, kShared);
    if (e != cudaSuccess) return e;
    return cudaFuncSetAttribute(PagedDecodeKernel<D, kKeys, kWarps>,
                                cudaFuncAttributePreferredSharedMemoryCarveout,
                                cudaSharedmemCarveoutMaxShared);
  }();
  if (attribute != cudaSuccess) return attribute;
  const dim3 grid(p.num_seqs, p.num_kv_heads, p.num_splits);
  PagedDecodeKernel<D, kKeys, kWarps><<<grid, kWarps * 32, kShared, stream>>>(p);
  return cudaGetLastError();
}

template <int D>
cudaError_t Launch(const PagedDecodeParams& p, cudaStream_t stream) {
  const int keys = p.tile_keys > 0 ? p.tile_keys : kDefaultDecodeTileKeys;
  const int warps = p.warps > 0 ? p.warps : kDefaultDecodeWarps;
  cudaError_t e = cudaErrorInvalidValue;
  if (keys == 32 && warps == 4) e = LaunchVariant<D, 32, 4>(p, stream);
  if (keys == 16 && warps == 4) e = LaunchVariant<D, 16, 4>(p, stream);
  if (keys == 16 && warps == 8) e = LaunchVariant<D, 16, 8>(p, stream);
  if (keys == 32 && warps == 2) e = LaunchVariant<D, 32, 2>(p, stream);
  if (e != cudaSuccess) return e;
  if (p.num_splits > 1) {
    MergeSplitsKernel<<<dim3(p.num_seqs, p.num_heads), 128, 0, stream>>>(p);
  }
  return cudaGetLastError();
}

}  // namespace

size_t PagedDecodeWorkspaceBytes(int num_seqs, int num_heads, int head_dim, int num_splits) {
  if (num_splits <= 1) return 0;
  return sizeof(float) * static_cast<size_t>(num_seqs) * num_heads * num_splits * (head_dim + 1);
}

cudaError_t LaunchPagedDecode(const PagedDecodeParams& p, cudaStream_t stream) {
  if (p.num_seqs == 0) return cudaSuccess;
  if (p.num_kv_heads <= 0 || p.num_heads % p.num_kv_heads != 0 ||
      p.num_heads / p.num_kv_heads > kRows || p.num_splits < 1 ||
      (p.num_splits > 1 && p.workspace == nullptr)) {
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
