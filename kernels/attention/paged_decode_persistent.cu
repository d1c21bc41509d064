// Paged decode attention, persistent variant (PagedDecodeParams::persistent; experimental, round
// 6, not yet measured). The default kernel (paged_decode.cu) pays a fixed cost per CTA: three
// dependent round trips (context_len -> block ids -> first K/V tile) with nothing of its own in
// flight, and after the last tile the warp merge and the output store, again with nothing in
// flight. Here a grid of as many CTAs as fit loops over the (sequence, KV head, split) items
// blockIdx.x, blockIdx.x + gridDim.x, ... (KV head fastest, so CTAs running side by side read
// neighbouring 256-byte slices of the same token rows). Each warp treats its tiles of all its
// CTA's items (tiles warp, warp + 4, ... of each item) as one stream with kStages cp.async stages:
// the copies of the next item's first tiles are issued, through a cursor that runs kStages - 1
// tiles ahead of the computation, before the current item is merged and stored, and the next
// item's context_len, block ids and q are read ahead into registers. So at an item boundary the
// memory pipe keeps every warp's copies in flight instead of draining.
// Layout: 4 warps x 16-key tiles as the default tiling. q stays in shared memory and its
// fragments are reloaded with each tile (32 registers fewer than holding them). The warps merge
// through the one stage of their ring that no copy targets at an item's end (a stage of K + V
// is exactly a [16][D + 8] fp32 accumulator), each writing its unscaled accumulator; the CTA
// rescales and sums the copies in a fixed order.
// PDL: context_lens and block tables are read before WaitForPrecedingGrid (as the default
// kernel), q, K/V, the workspace and the split counters after.
#include <algorithm>

#include "kernels/attention/mma_tile.cuh"
#include "kernels/attention/paged_attention.h"
#include "kernels/attention/paged_decode_common.cuh"
#include "kernels/common/pdl.cuh"

namespace stride::kernels::decode {
namespace {

using attention::CpAsync16;
using attention::CpAsyncCommit;
using attention::CpAsyncWait;
using attention::LdMatrixX4;
using attention::Mma16816;
using attention::RowState;

constexpr int kKeys = 16;
constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;

// q [kRows][D + 8], then per warp kStages stages of K [kKeys][D + 8] and V [kKeys][D + 8] (bf16),
// then the warps' row maxima and sums, their free stages and the last-arrival flag.
template <int D, int kStages>
constexpr int SharedBytes() {
  return (kRows + kWarps * kStages * 2 * kKeys) * (D + 8) *
             static_cast<int>(sizeof(__nv_bfloat16)) +
         2 * kWarps * kRows * static_cast<int>(sizeof(float)) +
         (kWarps + 1) * static_cast<int>(sizeof(int));
}

struct Item {
  int seq, kv_head, split;
};

__device__ __forceinline__ Item ItemAt(const PagedDecodeParams& p, int item) {
  const int rest = item / p.num_kv_heads;
  return {rest % p.num_seqs, item % p.num_kv_heads, rest / p.num_seqs};
}

// s[16 x 16] = q · k^T with q's A fragments loaded from shared memory per 16 columns.
template <int D, int kStride>
__device__ __forceinline__ void QkScores(const __nv_bfloat16* q, const __nv_bfloat16* k,
                                         float (&s)[2][4]) {
  const int lane = threadIdx.x % 32;
  const int q_row = (lane % 8) + ((lane / 8) % 2) * 8, q_col = (lane / 16) * 8;
  const int key = (lane % 8) + (lane / 16) * 8, d = ((lane / 8) % 2) * 8;
#pragma unroll
  for (int n = 0; n < 2; ++n) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    uint32_t a[4], b[4];
    LdMatrixX4(a, q + q_row * kStride + kk * 16 + q_col);
    LdMatrixX4(b, k + key * kStride + kk * 16 + d);
    Mma16816(s[0], a, b[0], b[1]);
    Mma16816(s[1], a, b[2], b[3]);
  }
}

template <int D, int kStages, int kMinCtas>
__global__ void __launch_bounds__(kThreads, kMinCtas)
    PagedDecodePersistentKernel(PagedDecodeParams p, int num_items) {
  constexpr int kStride = D + 8;
  constexpr int kChunks = D / 8;          // 16-byte chunks per key row
  constexpr int kKeyStep = 32 / kChunks;  // keys apart between one lane's chunks
  constexpr int kPerLane = kKeys * kChunks / 32;
  constexpr int kStageElems = 2 * kKeys * kStride;  // K then V of one tile
  constexpr int kQChunks = kRows * kChunks;
  constexpr int kQPerThread = (kQChunks + kThreads - 1) / kThreads;
  static_assert(32 % kChunks == 0 && kPerLane * 32 == kKeys * kChunks, "tile / lane mapping");
  static_assert(kRows * kStride * sizeof(float) == kStageElems * sizeof(__nv_bfloat16),
                "a stage holds one warp's fp32 accumulator");
  extern __shared__ __align__(16) unsigned char shared_raw[];
  __nv_bfloat16* q_s = reinterpret_cast<__nv_bfloat16*>(shared_raw);
  __nv_bfloat16* kv_s = q_s + kRows * kStride;  // [kWarps][kStages][K, V]
  float* warp_max = reinterpret_cast<float*>(kv_s + kWarps * kStages * kStageElems);
  float* warp_sum = warp_max + kWarps * kRows;                         // [kWarps][kRows] each
  int* warp_free = reinterpret_cast<int*>(warp_sum + kWarps * kRows);  // [kWarps]
  int* is_last = warp_free + kWarps;

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int group = p.num_heads / p.num_kv_heads;
  const int64_t token_stride = static_cast<int64_t>(p.num_kv_heads) * D;
  __nv_bfloat16* kv_w = kv_s + warp * kStages * kStageElems;
  AllowDependentLaunch();

  // The copy cursor: the next tile this warp copies (tile iss_tile of item iss_item, whose keys
  // are [iss_begin, iss_end)), the block ids of its keys, and the context_len of the item after
  // iss_item (read one item ahead). iss_item >= num_items: nothing left to copy.
  // Lane l copies chunk l % kChunks of keys l / kChunks + j * kKeyStep of a tile.
  const int lane_chunk = lane % kChunks, lane_key = lane / kChunks;
  int iss_item = blockIdx.x, iss_tile = warp, iss_begin = 0, iss_end = 0, iss_seq = 0;
  int iss_head = 0, next_len = 0;
  int32_t blocks[kPerLane];
  auto len_of = [&](int item) {
    return item < num_items ? p.context_lens[ItemAt(p, item).seq] : 0;
  };
  auto enter_item = [&](int len) {
    const Item it = ItemAt(p, iss_item);
    iss_seq = it.seq;
    iss_head = it.kv_head;
    SplitRange<kKeys>(len, p.sliding_window, p.num_splits, it.split, &iss_begin, &iss_end);
  };
  // Moves the cursor from (iss_item, iss_tile) to the first tile of this warp's stream at or
  // after it and reads that tile's block ids.
  auto settle = [&] {
    while (iss_item < num_items && iss_begin + iss_tile * kKeys >= iss_end) {
      iss_item += gridDim.x;
      iss_tile = warp;
      if (iss_item < num_items) {
        enter_item(next_len);
        next_len = len_of(iss_item + gridDim.x);
      }
    }
    if (iss_item >= num_items) return;
    const int32_t* table = p.block_tables + static_cast<int64_t>(iss_seq) * p.max_blocks_per_seq;
    const int key0 = iss_begin + iss_tile * kKeys + lane_key;
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int key = key0 + j * kKeyStep;
      blocks[j] = key < iss_end ? table[key / p.block_size] : 0;
    }
  };
  // Copies the cursor's tile into stage `stage` and advances the cursor.
  auto issue_and_advance = [&](int stage) {
    __nv_bfloat16* k_dst = kv_w + stage * kStageElems;
    __nv_bfloat16* v_dst = k_dst + kKeys * kStride;
    const __nv_bfloat16* k_head = p.k_cache + static_cast<int64_t>(iss_head) * D;
    const __nv_bfloat16* v_head = p.v_cache + static_cast<int64_t>(iss_head) * D;
    const int key0 = iss_begin + iss_tile * kKeys + lane_key;
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int key = key0 + j * kKeyStep;
      const bool valid = key < iss_end;
      const int64_t offset =
          valid ? (static_cast<int64_t>(blocks[j]) * p.block_size + key % p.block_size) *
                          token_stride +
                      lane_chunk * 8
                : 0;
      const int dst = (lane_key + j * kKeyStep) * kStride + lane_chunk * 8;
      CpAsync16(k_dst + dst, k_head + offset, valid);
      CpAsync16(v_dst + dst, v_head + offset, valid);
    }
    iss_tile += kWarps;
    settle();
  };

  // Before the wait: only context_lens and the block tables (constant for the step).
  enter_item(len_of(iss_item));
  next_len = len_of(iss_item + gridDim.x);
  settle();
  WaitForPrecedingGrid();  // q, K/V, the workspace and the counters are written by earlier kernels

  // q of the first item. Rows >= group stay zero for the whole launch: their scores are never
  // stored, and zeros keep them finite.
  {
    const Item it = ItemAt(p, blockIdx.x);
    for (int i = threadIdx.x; i < kQChunks; i += kThreads) {
      const int r = i / kChunks, c = i % kChunks;
      uint4 v = make_uint4(0, 0, 0, 0);
      if (r < group) {
        v = *reinterpret_cast<const uint4*>(
            p.q + (static_cast<int64_t>(it.seq) * p.num_heads + it.kv_head * group + r) * D +
            c * 8);
      }
      *reinterpret_cast<uint4*>(q_s + r * kStride + c * 8) = v;
    }
  }
  // The first kStages - 1 tiles of the stream; one commit group per tile (empty past the end),
  // so the wait below counts tiles.
#pragma unroll
  for (int stage = 0; stage < kStages - 1; ++stage) {
    if (iss_item < num_items) issue_and_advance(stage);
    CpAsyncCommit();
  }
  __syncthreads();  // q_s

  const float scale_log2 = p.scale * kLog2e;
  int computed = 0;  // tiles this warp has computed; tile n of the stream sits in stage n % kStages
  for (int item = blockIdx.x; item < num_items; item += gridDim.x) {
    const Item it = ItemAt(p, item);
    int key_begin, key_end;
    SplitRange<kKeys>(p.context_lens[it.seq], p.sliding_window, p.num_splits, it.split, &key_begin,
                      &key_end);
    const int num_tiles = (key_end - key_begin + kKeys - 1) / kKeys;

    // The next item's q, into registers now and into q_s once this item's tiles are done.
    const int next_item = item + gridDim.x;
    uint4 q_next[kQPerThread];
    if (next_item < num_items) {
      const Item next = ItemAt(p, next_item);
#pragma unroll
      for (int j = 0; j < kQPerThread; ++j) {
        const int i = threadIdx.x + j * kThreads, r = i / kChunks, c = i % kChunks;
        if (i < kQChunks && r < group) {
          q_next[j] = *reinterpret_cast<const uint4*>(
              p.q + (static_cast<int64_t>(next.seq) * p.num_heads + next.kv_head * group + r) * D +
              c * 8);
        }
      }
    }

    float o[D / 8][4];
#pragma unroll
    for (int n = 0; n < D / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
    RowState state;
    for (int tile = warp; tile < num_tiles; tile += kWarps, ++computed) {
      CpAsyncWait<kStages - 2>();  // tile `computed` has landed
      __syncwarp();                // and every lane is done with the stage the next copy overwrites
      if (iss_item < num_items) issue_and_advance((computed + kStages - 1) % kStages);
      CpAsyncCommit();
      const __nv_bfloat16* k_t = kv_w + (computed % kStages) * kStageElems;
      float s[2][4];
      QkScores<D, kStride>(q_s, k_t, s);
      ScaleAndMaskScores<kKeys>(s, key_begin + tile * kKeys, key_end, lane, scale_log2);
      attention::OnlineSoftmax<D, kKeys>(s, o, state);
      attention::AccumulatePv<D, kKeys, kStride>(s, k_t + kKeys * kStride, o);
    }
    attention::FinishRowSums(state);

    // Merge the warps through their free stages (the one no copy targets: the stage of the last
    // computed tile), unscaled; the CTA rescales each copy to the row maximum and adds them in
    // a fixed order.
    const int free_stage = (computed + kStages - 1) % kStages;
    float* acc_w = reinterpret_cast<float*>(kv_w + free_stage * kStageElems);  // [kRows][kStride]
    __syncwarp();  // every lane is done reading that stage's V
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int row = lane / 4 + 8 * r;
#pragma unroll
      for (int n = 0; n < D / 8; ++n) {
        *reinterpret_cast<float2*>(acc_w + row * kStride + n * 8 + (lane % 4) * 2) =
            make_float2(o[n][2 * r], o[n][2 * r + 1]);
      }
      if (lane % 4 == 0) {
        warp_max[warp * kRows + row] = state.max[r];
        warp_sum[warp * kRows + row] = state.sum[r];
      }
    }
    if (lane == 0) warp_free[warp] = free_stage;
    __syncthreads();  // accumulators, maxima, sums; every warp is done with q_s

    for (int i = threadIdx.x; i < group * D; i += kThreads) {
      const int row = i / D, d = i % D;
      float row_max = -INFINITY;
#pragma unroll
      for (int w = 0; w < kWarps; ++w) row_max = fmaxf(row_max, warp_max[w * kRows + row]);
      float sum = 0.0f, total = 0.0f;
#pragma unroll
      for (int w = 0; w < kWarps; ++w) {
        const float m = warp_max[w * kRows + row];
        if (m == -INFINITY) continue;  // no visible key in this warp's tiles
        const float factor = exp2f(m - row_max);
        const float* acc =
            reinterpret_cast<const float*>(kv_s + (w * kStages + warp_free[w]) * kStageElems);
        sum += warp_sum[w * kRows + row] * factor;
        total += acc[row * kStride + d] * factor;
      }
      const float value = sum > 0.0f ? total / sum : 0.0f;
      const int64_t head = static_cast<int64_t>(it.seq) * p.num_heads + it.kv_head * group + row;
      if (p.num_splits == 1) {
        p.out[head * D + d] = __float2bfloat16(value);
      } else {
        PartialOut(p)[(head * p.num_splits + it.split) * D + d] = value;
        if (d == 0) {
          PartialLse(p)[head * p.num_splits + it.split] =
              sum > 0.0f ? row_max + log2f(sum) : -INFINITY;
        }
      }
    }
    if (next_item < num_items) {
#pragma unroll
      for (int j = 0; j < kQPerThread; ++j) {
        const int i = threadIdx.x + j * kThreads, r = i / kChunks, c = i % kChunks;
        if (i < kQChunks && r < group) {
          *reinterpret_cast<uint4*>(q_s + r * kStride + c * 8) = q_next[j];
        }
      }
    }

    if (p.num_splits > 1 && p.split_counters != nullptr) {
      // Fused split merge, as in the default kernel: one arrival per item on its (sequence, KV
      // head) counter; the last to arrive resets it and merges, with warp 0's free stage as
      // scratch (the launcher checks that group x (splits + 1) floats fit).
      __syncthreads();  // this item's partials are written
      if (threadIdx.x == 0) {
        int32_t* counter = p.split_counters + it.seq * p.num_kv_heads + it.kv_head;
        __threadfence();
        *is_last = atomicAdd(counter, 1) == p.num_splits - 1;
        if (*is_last) {
          atomicExch(counter, 0);
          __threadfence();
        }
      }
      __syncthreads();
      if (*is_last) {
        MergeSplits<D>(p, it.seq, it.kv_head,
                       reinterpret_cast<float*>(kv_s + warp_free[0] * kStageElems));
      }
    }
    __syncthreads();  // the free stages, the flag and q_s may be reused
  }
  CpAsyncWait<0>();  // only empty groups remain; never leave the CTA with copies in flight
}

template <int D, int kStages>
cudaError_t LaunchStages(PagedDecodeParams p, cudaStream_t stream) {
  // Two stages fit three CTAs on an SM (73 KB, <= 168 registers), three stages two (107 KB).
  constexpr int kMinCtas = kStages == 2 ? 3 : 2;
  constexpr int kShared = SharedBytes<D, kStages>();
  auto* kernel = PagedDecodePersistentKernel<D, kStages, kMinCtas>;
  // Once per variant: the shared-memory size, the carveout, and how many CTAs fit on an SM.
  static const int ctas_per_sm = [kernel] {
    if (cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kShared) !=
            cudaSuccess ||
        cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout,
                             cudaSharedmemCarveoutMaxShared) != cudaSuccess) {
      return 0;
    }
    int n = 0;
    if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernel, kThreads, kShared) !=
        cudaSuccess) {
      return 0;
    }
    return n;
  }();
  if (ctas_per_sm <= 0) return cudaErrorInvalidConfiguration;
  const int64_t num_items = static_cast<int64_t>(p.num_seqs) * p.num_kv_heads * p.num_splits;
  if (num_items >= (int64_t{1} << 30)) return cudaErrorInvalidValue;  // item ids + grid fit an int
  // The fused merge's scratch is one stage: kRows x (D + 8) floats.
  const bool fused = p.num_splits > 1 && p.split_counters != nullptr && p.num_splits + 1 <= D + 8;
  if (!fused) p.split_counters = nullptr;
  int64_t ctas = p.persistent_ctas > 0 ? p.persistent_ctas
                                       : static_cast<int64_t>(ctas_per_sm) * MultiprocessorCount();
  ctas = std::max<int64_t>(1, std::min(ctas, num_items));
  cudaError_t e = LaunchPdl(kernel, dim3(static_cast<unsigned>(ctas)), dim3(kThreads), kShared,
                            stream, p, static_cast<int>(num_items));
  if (e != cudaSuccess || p.num_splits == 1 || fused) return e;
  return LaunchMergeSplits<D>(p, stream);
}

template <int D>
cudaError_t LaunchHeadDim(const PagedDecodeParams& p, cudaStream_t stream) {
  switch (p.persistent_stages) {
    case 0:
    case 2:
      return LaunchStages<D, 2>(p, stream);
    case 3:
      return LaunchStages<D, 3>(p, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace

cudaError_t LaunchPersistent(const PagedDecodeParams& p, cudaStream_t stream) {
  if (p.persistent_ctas < 0) return cudaErrorInvalidValue;
  switch (p.head_dim) {
    case 16:
      return LaunchHeadDim<16>(p, stream);
    case 32:
      return LaunchHeadDim<32>(p, stream);
    case 64:
      return LaunchHeadDim<64>(p, stream);
    case 128:
      return LaunchHeadDim<128>(p, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace stride::kernels::decode
