// Pieces of the paged decode kernel (paged_decode.cu: a CTA per (sequence, KV head, split)) kept
// apart from its main loop: the split of a sequence's keys, the workspace layout of split
// partials, score scaling and masking, the split merge (in the decode launch through split
// counters, or as its own kernel), and the warp-level tile math of the fp8 KV cache. Included
// only from .cu files.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/attention/mma_tile.cuh"
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

// A decode CTA's place and keys, all known before the PDL wait (context_lens and the block table
// are constant for the step). The grid is (sequence, KV head, split), or (KV head, sequence,
// split) with p.heads_fastest. block_size is a power of two (the launcher checks): a key's block
// and slot come by shift and mask, not by the ~20-instruction integer division.
struct DecodeCta {
  int seq, kv_head, split;
  int key_begin, key_end, num_tiles;  // the split's keys, in tiles of kKeys
  const int32_t* block_table;         // the sequence's
  int block_shift, block_mask;
};

// Starts the copy of the GQA group's query rows (group = num_heads / num_kv_heads of them) of
// (seq, kv_head) into q_s [kRows][kStride] (bf16; rows past the group zero-filled), one
// cp.async commit group. The caller waits.
template <int D, int kStride>
__device__ __forceinline__ void CopyGroupQueries(const PagedDecodeParams& p, int seq, int kv_head,
                                                 int group, __nv_bfloat16* q_s) {
  constexpr int kChunks = D / 8;  // 16-byte chunks of a row
  for (int i = threadIdx.x; i < kRows * kChunks; i += blockDim.x) {
    const int r = i / kChunks, c = i % kChunks;
    const bool valid = r < group;
    const __nv_bfloat16* src =
        valid ? p.q + (static_cast<int64_t>(seq) * p.num_heads + kv_head * group + r) * D + c * 8
              : p.q;
    attention::CpAsync16(q_s + r * kStride + c * 8, src, valid);
  }
  attention::CpAsyncCommit();
}

// The grid DecodeCta reads.
inline dim3 DecodeGrid(const PagedDecodeParams& p) {
  return p.heads_fastest ? dim3(p.num_kv_heads, p.num_seqs, p.num_splits)
                         : dim3(p.num_seqs, p.num_kv_heads, p.num_splits);
}

// The CTAs of that grid: what both kernels' choices (latency-bound tiling, TMA or not) weigh
// against the SM count.
inline int64_t DecodeCtas(const PagedDecodeParams& p) {
  return static_cast<int64_t>(p.num_seqs) * p.num_kv_heads * p.num_splits;
}

// `bytes` of dynamic shared memory for `kernel`, and the whole carveout as shared memory (three
// ~72 KB decode CTAs per SM). Once per kernel, never per launch.
template <typename Kernel>
cudaError_t AllowSharedMemory(Kernel kernel, int bytes) {
  const cudaError_t e =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
  if (e != cudaSuccess) return e;
  return cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout,
                              cudaSharedmemCarveoutMaxShared);
}

template <int kKeys>
__device__ __forceinline__ DecodeCta LocateDecodeCta(const PagedDecodeParams& p) {
  DecodeCta c;
  c.seq = p.heads_fastest ? blockIdx.y : blockIdx.x;
  c.kv_head = p.heads_fastest ? blockIdx.x : blockIdx.y;
  c.split = blockIdx.z;
  SplitRange<kKeys>(p.context_lens[c.seq], p.sliding_window, p.num_splits, c.split, &c.key_begin,
                    &c.key_end);
  c.num_tiles = (c.key_end - c.key_begin + kKeys - 1) / kKeys;
  c.block_table = p.block_tables + static_cast<int64_t>(c.seq) * p.max_blocks_per_seq;
  c.block_shift = 31 - __clz(p.block_size);
  c.block_mask = p.block_size - 1;
  return c;
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

// The TMA variant (paged_decode_tma.cu): whether it takes these params, and its launch.
bool PagedDecodeTmaApplies(const PagedDecodeParams& p);
cudaError_t LaunchPagedDecodeTma(const PagedDecodeParams& p, cudaStream_t stream);

// fp8 (e4m3) KV cache. The tiles are not widened into bf16 tiles in shared memory (that would
// cost a second tile's space, i.e. the third CTA per SM, and a shared-memory round trip): each
// lane loads the bytes of its own mma fragments (4-16 byte loads) and converts them in registers,
// exactly, to f16 (cvt.rn.f16x2.e4m3x2, one instruction per two values; bf16 would take ~4), and
// the MMAs run in f16 with fp32 accumulation. For that the head dims are permuted, which a dot
// product and a weighted sum of rows both allow:
//  * S = q k^T: fragment column 2c + j + 8h of k-step kk (c = lane % 4) is head dim
//    c * D/4 + 4 kk + 2h + j, so a lane's K bytes of a key are D/4 contiguous bytes, each word one
//    k-step's b0 (low half) and b1 (high half); q is loaded into its A fragments to match.
//  * O += P v: column n of 8-column block dn is head dim n * D/8 + dn, so a lane's V bytes of a
//    key are D/8 contiguous bytes, the two keys of a b register paired by a byte permute;
//    Fp8OutputDim maps the accumulator's columns back.
// Keys keep their order: masking and the softmax are the bf16 kernel's. q is carried as f16
// times 2^-8 (the score scale takes 2^8 back): no overflow below |q| = 2^24, and components
// below 2^-6 keep an absolute error under 2^-17.
inline constexpr float kFp8QScale = 1.0f / 256.0f;

// Bytes per fp8 key row in shared memory: 16 bytes of padding make the fragment loads of
// d64 / d128 conflict-free (d128) or nearly so; d16 / d32 are best unpadded.
template <int D>
constexpr int Fp8RowBytes() {
  return D >= 64 ? D + 16 : D;
}

// Four e4m3 values (bytes 0..3 of w) as two f16x2: bytes 0, 1 -> lo, bytes 2, 3 -> hi (the
// lower byte in the lower half). Exact: every e4m3 value is an f16 normal number or zero.
__device__ __forceinline__ void Fp8x4ToHalf2x2(uint32_t w, uint32_t& lo, uint32_t& hi) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
  asm("{\n .reg .b16 l, h;\n mov.b32 {l, h}, %2;\n cvt.rn.f16x2.e4m3x2 %0, l;\n"
      " cvt.rn.f16x2.e4m3x2 %1, h;\n}\n"
      : "=r"(lo), "=r"(hi)
      : "r"(w));
#else
  const __half2_raw l = __nv_cvt_fp8x2_to_halfraw2(static_cast<__nv_fp8x2_storage_t>(w), __NV_E4M3);
  const __half2_raw h =
      __nv_cvt_fp8x2_to_halfraw2(static_cast<__nv_fp8x2_storage_t>(w >> 16), __NV_E4M3);
  lo = static_cast<uint32_t>(l.x) | (static_cast<uint32_t>(l.y) << 16);
  hi = static_cast<uint32_t>(h.x) | (static_cast<uint32_t>(h.y) << 16);
#endif
}

__device__ __forceinline__ uint32_t PackHalf2(float lo, float hi) {
  const __half2 v = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&v);
}

// c += a b, mma.sync m16n8k16 with f16 inputs (fragment layouts as the bf16 Mma16816).
__device__ __forceinline__ void MmaF16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                       uint32_t b1) {
  asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, "
      "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// kBytes (2, 4, 8 or a multiple of 16) bytes, aligned to min(kBytes, 16), as 32-bit words (a
// 2-byte load fills the low half of w[0]).
template <int kBytes>
__device__ __forceinline__ void LoadWords(const void* p, uint32_t (&w)[(kBytes + 3) / 4]) {
  if constexpr (kBytes == 2) {
    w[0] = *static_cast<const uint16_t*>(p);
  } else if constexpr (kBytes == 4) {
    w[0] = *static_cast<const uint32_t*>(p);
  } else if constexpr (kBytes == 8) {
    const uint2 v = *static_cast<const uint2*>(p);
    w[0] = v.x, w[1] = v.y;
  } else {
    static_assert(kBytes % 16 == 0, "2, 4, 8 or 16n bytes");
#pragma unroll
    for (int i = 0; i < kBytes / 16; ++i) {
      const uint4 v = static_cast<const uint4*>(p)[i];
      w[4 * i] = v.x, w[4 * i + 1] = v.y, w[4 * i + 2] = v.z, w[4 * i + 3] = v.w;
    }
  }
}

// A fragments of the 16 query rows q_rows[0..15] (row stride D; rows >= `rows` are zero) in
// the permuted head-dim order, f16 times kFp8QScale. Plain loads: an earlier kernel wrote q.
template <int D>
__device__ __forceinline__ void LoadFp8QFragments(const __nv_bfloat16* q_rows, int rows,
                                                  uint32_t (&q)[D / 16][4]) {
  const int lane = threadIdx.x % 32, g = lane / 4, c = lane % 4;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    uint32_t w[D / 8] = {};  // head dims c * D/4 .. + D/4 of row g + 8r, as bf16 pairs
    if (g + 8 * r < rows) LoadWords<D / 2>(q_rows + (g + 8 * r) * D + c * (D / 4), w);
#pragma unroll
    for (int i = 0; i < D / 8; ++i) {
      const float lo = __uint_as_float(w[i] << 16) * kFp8QScale;
      const float hi = __uint_as_float(w[i] & 0xffff0000u) * kFp8QScale;
      q[i / 2][r + 2 * (i % 2)] = PackHalf2(lo, hi);  // word 2kk: a0 / a1, word 2kk + 1: a2 / a3
    }
  }
}

// Where an fp8 tile's rows lie in shared memory: Load<kBytes>(row, byte, w) reads kBytes bytes
// of a row from `byte` on. Rows padded to kRowBytes (the cp.async kernel, Fp8RowBytes):
template <int kRowBytes>
struct Fp8PaddedTile {
  const uint8_t* base;
  template <int kBytes>
  __device__ __forceinline__ void Load(int row, int byte, uint32_t (&w)[(kBytes + 3) / 4]) const {
    LoadWords<kBytes>(base + row * kRowBytes + byte, w);
  }
};

// 128-byte rows (d128) as a TMA box with 128-byte swizzle leaves them (paged_decode_tma.cu:
// tma::Swizzle128Chunk). The lanes of Fp8QkScores (key g, chunks 2c and 2c + 1) and
// Fp8AccumulatePv (key 2c + .., chunk g) then hit distinct chunks in each quarter-warp: no bank
// conflicts, with no padding. kBytes: 16n.
struct Fp8SwizzledTile {
  const uint8_t* base;
  template <int kBytes>
  __device__ __forceinline__ void Load(int row, int byte, uint32_t (&w)[(kBytes + 3) / 4]) const {
    static_assert(kBytes % 16 == 0, "whole 16-byte chunks");
#pragma unroll
    for (int i = 0; i < kBytes / 16; ++i) {
      const int chunk = byte / 16 + i;
      const uint4 v =
          *reinterpret_cast<const uint4*>(base + row * 128 + tma::Swizzle128Chunk(row, chunk) * 16);
      w[4 * i] = v.x, w[4 * i + 1] = v.y, w[4 * i + 2] = v.z, w[4 * i + 3] = v.w;
    }
  }
};

// s[16 x kKeys] = q k^T over an fp8 K tile (kKeys rows in shared memory, laid out as Tile says).
template <int D, int kKeys, typename Tile>
__device__ __forceinline__ void Fp8QkScores(const uint32_t (&q)[D / 16][4], Tile k,
                                            float (&s)[kKeys / 8][4]) {
  const int lane = threadIdx.x % 32, g = lane / 4, c = lane % 4;
#pragma unroll
  for (int nt = 0; nt < kKeys / 8; ++nt) {
    s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.0f;
    uint32_t w[D / 16];  // key nt * 8 + g, head dims c * D/4 .. + D/4: one word per k-step
    k.template Load<D / 4>(nt * 8 + g, c * (D / 4), w);
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      uint32_t b0, b1;
      Fp8x4ToHalf2x2(w[kk], b0, b1);
      MmaF16(s[nt], q[kk], b0, b1);
    }
  }
}

// o[16 x D] += p v over an fp8 V tile, p being the probabilities in s's accumulator layout
// (rounded to f16), o's columns in the permuted order (Fp8OutputDim).
template <int D, int kKeys, typename Tile>
__device__ __forceinline__ void Fp8AccumulatePv(const float (&s)[kKeys / 8][4], Tile v,
                                                float (&o)[D / 8][4]) {
  constexpr int kBytes = D / 8, kWords = (kBytes + 3) / 4;
  const int lane = threadIdx.x % 32, g = lane / 4, c = lane % 4;
#pragma unroll
  for (int kc = 0; kc < kKeys / 16; ++kc) {
    const uint32_t a[4] = {PackHalf2(s[2 * kc][0], s[2 * kc][1]),
                           PackHalf2(s[2 * kc][2], s[2 * kc][3]),
                           PackHalf2(s[2 * kc + 1][0], s[2 * kc + 1][1]),
                           PackHalf2(s[2 * kc + 1][2], s[2 * kc + 1][3])};
    // Keys 2c, 2c + 1 (b0) and 2c + 8, 2c + 9 (b1) of the chunk, head dims g * D/8 .. + D/8.
    uint32_t r[4][kWords];
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const int key = kc * 16 + 2 * c + (k % 2) + 8 * (k / 2);
      v.template Load<kBytes>(key, g * kBytes, r[k]);
    }
#pragma unroll
    for (int i = 0; i < kWords; ++i) {
#pragma unroll
      for (int half = 0; half < (kBytes >= 4 ? 2 : 1); ++half) {
        // Bytes 2 half, 2 half + 1 of word i of both keys, interleaved: one f16x2 per column.
        const uint32_t selector = half == 0 ? 0x5140u : 0x7362u;
        uint32_t b0[2], b1[2];
        Fp8x4ToHalf2x2(__byte_perm(r[0][i], r[1][i], selector), b0[0], b0[1]);
        Fp8x4ToHalf2x2(__byte_perm(r[2][i], r[3][i], selector), b1[0], b1[1]);
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int dn = 4 * i + 2 * half + e;
          MmaF16(o[dn], a, b0[e], b1[e]);
        }
      }
    }
  }
}

// The head dim of accumulator column `col` (block col / 8, position col % 8) in Fp8AccumulatePv.
template <int D>
__device__ __forceinline__ int Fp8OutputDim(int col) {
  return (col % 8) * (D / 8) + col / 8;
}

// Row stride (floats) of a warp's fp32 accumulator [kRows][D + 8] in shared memory
// (conflict-free float2 stores).
template <int D>
inline constexpr int kOutStride = D + 8;

// The end of a decode CTA, after its key loop. The warps merge their softmax states: each
// rescales its accumulator to the CTA-wide row maximum and stores it at acc + warp * warp_floats
// (its idle K/V buffers), then the CTA adds the kWarps copies in a fixed order and writes the
// group's output rows (one split), or its fp32 partial and log-sum-exp (several). With split
// counters the last CTA of a (sequence, KV head) to finish then merges the splits, using `acc`
// as scratch. warp_max / warp_sum are [kWarps][kRows] in shared memory.
template <int D, int kWarps, bool kFp8>
__device__ __forceinline__ void MergeWarpsAndStore(const PagedDecodeParams& p, int seq,
                                                   int kv_head, int split,
                                                   const attention::RowState& state,
                                                   const float (&o)[D / 8][4], float* warp_max,
                                                   float* warp_sum, float* acc, int warp_floats) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int group = p.num_heads / p.num_kv_heads;
  if (lane % 4 == 0) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      warp_max[warp * kRows + lane / 4 + 8 * r] = state.max[r];
      warp_sum[warp * kRows + lane / 4 + 8 * r] = state.sum[r];
    }
  }
  __syncthreads();
  float* acc_w = acc + warp * warp_floats;  // [kRows][kOutStride<D>]
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int row = lane / 4 + 8 * r;
    float row_max = -INFINITY;
    for (int w = 0; w < kWarps; ++w) row_max = fmaxf(row_max, warp_max[w * kRows + row]);
    const float factor = state.max[r] == -INFINITY ? 0.0f : exp2f(state.max[r] - row_max);
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
      const int col = n * 8 + (lane % 4) * 2;
      *reinterpret_cast<float2*>(acc_w + row * kOutStride<D> + col) =
          make_float2(o[n][2 * r] * factor, o[n][2 * r + 1] * factor);
    }
  }
  __syncthreads();

  for (int i = threadIdx.x; i < group * D; i += blockDim.x) {
    const int row = i / D, col = i % D;
    // fp8: the accumulator's columns are a permutation of the head dims.
    const int d = kFp8 ? Fp8OutputDim<D>(col) : col;
    float row_max = -INFINITY;
    for (int w = 0; w < kWarps; ++w) row_max = fmaxf(row_max, warp_max[w * kRows + row]);
    float sum = 0.0f, total = 0.0f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) {
      const float m = warp_max[w * kRows + row];
      if (m != -INFINITY) sum += warp_sum[w * kRows + row] * exp2f(m - row_max);
      total += acc[w * warp_floats + row * kOutStride<D> + col];
    }
    float value = sum > 0.0f ? total / sum : 0.0f;
    if constexpr (kFp8) value *= p.v_scale;  // a value element e means e * v_scale
    const int64_t head = static_cast<int64_t>(seq) * p.num_heads + kv_head * group + row;
    if (p.num_splits == 1) {
      p.out[head * D + d] = __float2bfloat16(value);
    } else {
      PartialOut(p)[(head * p.num_splits + split) * D + d] = value;
      if (col == 0) {
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
  MergeSplits<D>(p, seq, kv_head, acc);  // the K/V buffers are idle
}

}  // namespace stride::kernels::decode
