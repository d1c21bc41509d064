// Pieces of the paged decode kernel (paged_decode.cu: a CTA per (sequence, KV head, split)) kept
// apart from its main loop: the split of a sequence's keys, the workspace layout of split
// partials, score scaling and masking, and the split merge (in the decode launch through split
// counters, or as its own kernel). Included only from .cu files.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/attention/paged_attention.h"
#include "kernels/common/pdl.cuh"

namespace stride::kernels::decode {

// Query rows of one mma tile: the GQA group's heads (at most 16).
inline constexpr int kRows = 16;
inline constexpr float kLog2e = 1.4426950408889634f;
// Split counts above this are rejected (the split merge keeps kRows x splits weights in shared
// memory).
inline constexpr int kMaxSplits = 256;

// Scores of one warp tile (kKeys keys starting at key0, mma accumulator layout) to the log2
// domain; keys at or past key_end (only in the last tile of a range) become -inf.
template <int kKeys>
__device__ __forceinline__ void ScaleAndMaskScores(float (&s)[kKeys / 8][4], int key0,
                                                   int key_end, int lane, float scale_log2) {
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

// The splits' partial outputs [num_seqs][num_heads][num_splits][D] (fp32, each normalised by
// its own sum) and log-sum-exps [num_seqs][num_heads][num_splits] (log2 units, -inf for an
// empty split) in the workspace.
__device__ __forceinline__ float* PartialOut(const PagedDecodeParams& p) {
  return static_cast<float*>(p.workspace);
}
__device__ __forceinline__ float* PartialLse(const PagedDecodeParams& p) {
  return PartialOut(p) + static_cast<int64_t>(p.num_seqs) * p.num_heads * p.num_splits * p.head_dim;
}

// out[s, h] = sum over splits of exp2(lse_i - max) * o_i / sum of exp2(lse_i - max), for the
// query heads of one (sequence, KV head), by the whole CTA. `scratch` holds
// group x (num_splits + 1) floats. Reads go through L2 (__ldcg): in the fused path other CTAs
// wrote the partials during this launch. Ends without a barrier: the caller syncs before it
// reuses `scratch`.
template <int D>
__device__ void MergeSplits(const PagedDecodeParams& p, int seq, int kv_head, float* scratch) {
  const int group = p.num_heads / p.num_kv_heads, splits = p.num_splits;
  const int64_t head0 = static_cast<int64_t>(seq) * p.num_heads + kv_head * group;
  float* weight = scratch;                    // [group][splits]
  float* inverse = scratch + group * splits;  // [group]
  const float* lse = PartialLse(p) + head0 * splits;
  for (int i = threadIdx.x; i < group * splits; i += blockDim.x) weight[i] = __ldcg(lse + i);
  __syncthreads();
  for (int row = threadIdx.x; row < group; row += blockDim.x) {
    float* w = weight + row * splits;
    float lse_max = -INFINITY;
    for (int i = 0; i < splits; ++i) lse_max = fmaxf(lse_max, w[i]);
    float total = 0.0f;
    for (int i = 0; i < splits; ++i) {
      w[i] = w[i] == -INFINITY ? 0.0f : exp2f(w[i] - lse_max);
      total += w[i];
    }
    inverse[row] = total > 0.0f ? 1.0f / total : 0.0f;  // 0: no visible key (padding row)
  }
  __syncthreads();
  constexpr int kVectors = D / 4;  // float4 columns of a row
  for (int i = threadIdx.x; i < group * kVectors; i += blockDim.x) {
    const int row = i / kVectors, c = i % kVectors;
    const float4* src =
        reinterpret_cast<const float4*>(PartialOut(p) + (head0 + row) * splits * D) + c;
    const float* w = weight + row * splits;
    float4 acc = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll 8
    for (int sp = 0; sp < splits; ++sp) {
      const float4 v = __ldcg(src + sp * kVectors);
      acc.x += w[sp] * v.x;
      acc.y += w[sp] * v.y;
      acc.z += w[sp] * v.z;
      acc.w += w[sp] * v.w;
    }
    const float inv = inverse[row];
    const __nv_bfloat162 lo = __floats2bfloat162_rn(acc.x * inv, acc.y * inv);
    const __nv_bfloat162 hi = __floats2bfloat162_rn(acc.z * inv, acc.w * inv);
    uint2 packed;
    packed.x = *reinterpret_cast<const uint32_t*>(&lo);
    packed.y = *reinterpret_cast<const uint32_t*>(&hi);
    *reinterpret_cast<uint2*>(p.out + (head0 + row) * D + c * 4) = packed;
  }
}

// The split merge as its own launch, one CTA per (sequence, KV head), when no split counters
// are given.
template <int D>
__global__ void MergeSplitsKernel(PagedDecodeParams p) {
  extern __shared__ float merge_scratch[];
  AllowDependentLaunch();
  WaitForPrecedingGrid();
  MergeSplits<D>(p, blockIdx.x, blockIdx.y, merge_scratch);
}

template <int D>
cudaError_t LaunchMergeSplits(const PagedDecodeParams& p, cudaStream_t stream) {
  const size_t scratch = sizeof(float) * (p.num_heads / p.num_kv_heads) * (p.num_splits + 1);
  return LaunchPdl(MergeSplitsKernel<D>, dim3(p.num_seqs, p.num_kv_heads), dim3(128), scratch,
                   stream, p);
}

// SM count of the current device, read once (the devices of one process are alike).
int MultiprocessorCount();

}  // namespace stride::kernels::decode
