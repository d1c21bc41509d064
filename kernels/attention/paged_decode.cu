// Paged decode attention: one query per sequence. A CTA per (sequence, KV head, split) packs the
// GQA group's query heads into the 16 rows of one mma tile; its warps (4 by default) walk
// interleaved key tiles (16 keys by default: 73 KB of shared memory, 3 CTAs per SM) of the split
// with private cp.async double buffers, the block ids of a warp's next tile fetched one tile
// ahead. The warps then merge their softmax states through their (now idle) K/V buffers: each
// writes its rescaled accumulator, and the CTA sums them in a fixed order (no atomics). With
// several splits each CTA writes an fp32 partial and its log-sum-exp to the workspace; with
// split counters the last CTA of a (sequence, KV head) to finish merges them in the same launch
// (and resets its counter), otherwise a second kernel does.
// Launched with programmatic dependent launch: context_lens and the block table are constant for
// the step (copied before its first kernel, never written by a kernel), so a CTA reads them and
// computes its key range before WaitForPrecedingGrid(); q, K/V and the workspace only after.
#include "kernels/attention/mma_tile.cuh"
#include "kernels/attention/paged_attention.h"
#include "kernels/attention/paged_decode_common.cuh"
#include "kernels/common/pdl.cuh"

namespace stride::kernels {
namespace {

using attention::CpAsync16;
using attention::CpAsyncCommit;
using attention::CpAsyncWait;
using attention::RowState;
using decode::kLog2e;
using decode::kRows;
using decode::PartialLse;
using decode::PartialOut;
using decode::SplitRange;

// kKeys keys per warp tile, kWarps warps per CTA (PagedDecodeParams::tile_keys / warps): q, then
// per warp K[2][kKeys] and V[2][kKeys] (rows padded by 16 bytes), then the warps' row maxima and
// sums. After the key loop a warp's K/V buffers hold its [kRows][D + 8] fp32 accumulator.
template <int D, int kKeys, int kWarps>
constexpr int SharedBytes() {
  return (kRows + kWarps * 4 * kKeys) * (D + 8) * static_cast<int>(sizeof(__nv_bfloat16)) +
         2 * kWarps * kRows * static_cast<int>(sizeof(float));
}

__device__ __forceinline__ void PrefetchL2(const void* p) {
  asm volatile("prefetch.global.L2 [%0];" ::"l"(p));
}

template <int D, int kKeys, int kWarps>
__global__ void __launch_bounds__(kWarps * 32) PagedDecodeKernel(PagedDecodeParams p) {
  constexpr int kStride = D + 8;
  constexpr int kChunks = D / 8;          // 16-byte chunks per key row
  constexpr int kKeyStep = 32 / kChunks;  // keys apart between one lane's chunks
  constexpr int kPerLane = kKeys * kChunks / 32;
  constexpr int kOutStride = D + 8;  // fp32 accumulator rows (conflict-free float2 stores)
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
  AllowDependentLaunch();

  // Before the wait: only context_lens and the block table (constant for the step).
  const int context_len = p.context_lens[seq];
  int key_begin, key_end;
  SplitRange<kKeys>(context_len, p.sliding_window, p.num_splits, split, &key_begin, &key_end);
  const int num_tiles = (key_end - key_begin + kKeys - 1) / kKeys;
  const int32_t* block_table = p.block_tables + static_cast<int64_t>(seq) * p.max_blocks_per_seq;
  const int64_t token_stride = static_cast<int64_t>(p.num_kv_heads) * D;
  const __nv_bfloat16* k_head =
      static_cast<const __nv_bfloat16*>(p.k_cache) + static_cast<int64_t>(kv_head) * D;
  const __nv_bfloat16* v_head =
      static_cast<const __nv_bfloat16*>(p.v_cache) + static_cast<int64_t>(kv_head) * D;

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
                          token_stride +
                      lane_chunk * 8
                : 0;
      const int dst = (buffer * kKeys + lane_key + j * kKeyStep) * kStride + lane_chunk * 8;
      CpAsync16(k_w + dst, k_head + offset, valid);
      CpAsync16(v_w + dst, v_head + offset, valid);
    }
  };

  // Warp w takes tiles w, w + kWarps, ...
  if (warp < num_tiles) {
    fetch_blocks(warp);
    // Warm L2 with the first tile while the previous kernel finishes: a prefetch returns no
    // data to the SM, and L2 is where writes land, so a key the previous kernel is still
    // writing (the new token's) is read fresh by the copies after the wait.
    if (p.l2_prefetch) {
      const int key0 = key_begin + warp * kKeys + lane_key;
#pragma unroll
      for (int j = 0; j < kPerLane; ++j) {
        const int key = key0 + j * kKeyStep;
        if (key < key_end && lane_chunk % 2 == 0) {  // one prefetch per 32-byte sector
          const int64_t offset =
              (static_cast<int64_t>(blocks[j]) * p.block_size + key % p.block_size) * token_stride +
              lane_chunk * 8;
          PrefetchL2(k_head + offset);
          PrefetchL2(v_head + offset);
        }
      }
    }
  }
  WaitForPrecedingGrid();  // q, K/V and the workspace are written by earlier kernels
  for (int i = threadIdx.x; i < kRows * kChunks; i += blockDim.x) {
    const int r = i / kChunks, c = i % kChunks;
    const bool valid = r < group;
    const __nv_bfloat16* src =
        valid ? p.q + (static_cast<int64_t>(seq) * p.num_heads + kv_head * group + r) * D + c * 8
              : p.q;
    CpAsync16(q_s + r * kStride + c * 8, src, valid);
  }
  CpAsyncCommit();
  if (warp < num_tiles) {
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
    decode::ScaleAndMaskScores<kKeys>(s, key_begin + tile * kKeys, key_end, lane, scale_log2);
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
      PartialOut(p)[(head * p.num_splits + split) * D + d] = value;
      if (d == 0) {
        PartialLse(p)[head * p.num_splits + split] = sum > 0.0f ? row_max + log2f(sum) : -INFINITY;
      }
    }
  }
  if (p.num_splits == 1 || p.split_counters == nullptr) return;

  // Fused split merge: one arrival per CTA on the (sequence, KV head) counter; the last to
  // arrive resets it for the next launch and merges. As in a grid barrier, the barrier makes
  // the CTA's partial writes visible to thread 0, whose fence (cumulative) publishes them before
  // its arrival, and whose fence after the last arrival orders the other CTAs' partials before
  // the reads that follow the second barrier.
  __shared__ int is_last;
  __syncthreads();
  if (threadIdx.x == 0) {
    int32_t* counter = p.split_counters + seq * p.num_kv_heads + kv_head;
    __threadfence();
    is_last = atomicAdd(counter, 1) == p.num_splits - 1;
    if (is_last) {
      atomicExch(counter, 0);
      __threadfence();
    }
  }
  __syncthreads();
  if (!is_last) return;
  decode::MergeSplits<D>(p, seq, kv_head, reinterpret_cast<float*>(kv_s));  // K/V buffers are idle
}

template <int D, int kKeys, int kWarps>
cudaError_t LaunchVariant(PagedDecodeParams p, cudaStream_t stream) {
  constexpr int kShared = SharedBytes<D, kKeys, kWarps>();
  constexpr int kKvFloats = kWarps * 4 * kKeys * (D + 8) / 2;  // the fused merge's scratch
  const bool fused =
      p.num_splits > 1 && p.split_counters != nullptr && kRows * (p.num_splits + 1) <= kKvFloats;
  if (!fused) p.split_counters = nullptr;
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
  cudaError_t e =
      LaunchPdl(PagedDecodeKernel<D, kKeys, kWarps>, grid, dim3(kWarps * 32), kShared, stream, p);
  if (e != cudaSuccess || p.num_splits == 1 || fused) return e;
  return decode::LaunchMergeSplits<D>(p, stream);
}

template <int D>
cudaError_t Launch(PagedDecodeParams p, cudaStream_t stream) {
  int keys = p.tile_keys > 0 ? p.tile_keys : kDefaultDecodeTileKeys;
  int warps = p.warps > 0 ? p.warps : kDefaultDecodeWarps;
  // A grid of at most one CTA per SM is latency-bound: 8 warps of one 16-key tile each
  // finish sooner than 4 warps of two (B1 x 1024 keys, 8 splits), and the L2 prefetch before
  // the wait shortens the first load. Bandwidth-bound grids skip the prefetch (no gain there).
  const int64_t ctas = static_cast<int64_t>(p.num_seqs) * p.num_kv_heads * p.num_splits;
  const bool latency_bound = ctas <= decode::MultiprocessorCount();
  if (p.tile_keys == 0 && p.warps == 0 && latency_bound) keys = 16, warps = 8;
  p.l2_prefetch = p.l2_prefetch && latency_bound;
  if (keys == 32 && warps == 4) return LaunchVariant<D, 32, 4>(p, stream);
  if (keys == 16 && warps == 4) return LaunchVariant<D, 16, 4>(p, stream);
  if (keys == 16 && warps == 8) return LaunchVariant<D, 16, 8>(p, stream);
  if (keys == 32 && warps == 2) return LaunchVariant<D, 32, 2>(p, stream);
  return cudaErrorInvalidValue;
}

}  // namespace

int decode::MultiprocessorCount() {
  static const int count = [] {
    int device = 0, n = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device) != cudaSuccess) {
      return 0;
    }
    return n;
  }();
  return count;
}

size_t PagedDecodeWorkspaceBytes(int num_seqs, int num_heads, int head_dim, int num_splits) {
  if (num_splits <= 1) return 0;
  return sizeof(float) * static_cast<size_t>(num_seqs) * num_heads * num_splits * (head_dim + 1);
}

cudaError_t LaunchPagedDecode(const PagedDecodeParams& p, cudaStream_t stream) {
  if (p.num_seqs == 0) return cudaSuccess;
  if (p.num_kv_heads <= 0 || p.num_heads % p.num_kv_heads != 0 ||
      p.num_heads / p.num_kv_heads > kRows || p.num_splits < 1 ||
      p.num_splits > decode::kMaxSplits || (p.num_splits > 1 && p.workspace == nullptr) ||
      !PagedAttentionSupportsHeadDim(p.head_dim)) {
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
