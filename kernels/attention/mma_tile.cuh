// Warp-level building blocks of the paged attention kernels: cp.async copies, ldmatrix loads
// and mma.sync m16n8k16 (bf16 in, fp32 accumulate) for S = Q·K^T and O += P·V over tiles in
// shared memory, and the online-softmax update. Fragment layouts follow the PTX ISA's
// description of mma.m16n8k16: lane l holds rows l/4 and l/4 + 8, columns 2(l%4) and 2(l%4)+1.
// Shared-memory rows are padded by 16 bytes so that ldmatrix's eight row addresses fall in
// distinct banks (PaddedTile), or swizzled as a TMA copy leaves them (SwizzledTile).
#pragma once

#include <cuda_bf16.h>

#include <cstdint>

#include "kernels/common/tma.cuh"

namespace stride::kernels::attention {

__device__ __forceinline__ uint32_t SharedAddress(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16-byte async copy; when !valid the destination is zero-filled and nothing is read.
__device__ __forceinline__ void CpAsync16(void* smem, const void* gmem, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(SharedAddress(smem)),
               "l"(gmem), "r"(valid ? 16 : 0));
}

__device__ __forceinline__ void CpAsyncCommit() { asm volatile("cp.async.commit_group;\n" ::); }

template <int N>
__device__ __forceinline__ void CpAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

__device__ __forceinline__ void LdMatrixX4(uint32_t (&r)[4], const void* smem) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(SharedAddress(smem)));
}

__device__ __forceinline__ void LdMatrixX4Trans(uint32_t (&r)[4], const void* smem) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(SharedAddress(smem)));
}

__device__ __forceinline__ void Mma16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                         uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, "
      "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint32_t PackBf16(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&v);
}

// A fragments of 16 query rows (starting at `rows`, row stride kStride elements) over the whole
// head dimension.
template <int D, int kStride>
__device__ __forceinline__ void LoadQFragments(const __nv_bfloat16* rows,
                                               uint32_t (&q)[D / 16][4]) {
  const int lane = threadIdx.x % 32;
  const int row = (lane % 8) + ((lane / 8) % 2) * 8, col = (lane / 16) * 8;
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) LdMatrixX4(q[kk], rows + row * kStride + kk * 16 + col);
}

// Where a tile of kKeys rows of D values lies in shared memory: At(row, e) is the address of
// elements e .. e + 7 of a row (e a multiple of 8), the 16 bytes one ldmatrix lane names.
// Rows padded to kStride elements (the cp.async kernels: conflict-free for ldmatrix).
template <int kStride>
struct PaddedTile {
  const __nv_bfloat16* base;
  __device__ __forceinline__ const __nv_bfloat16* At(int row, int e) const {
    return base + row * kStride + e;
  }
};

// As a TMA tensor copy with 128-byte swizzle leaves it (paged_decode_tma.cu): D / 64 halves of
// [kKeys][64], each row's eight 16-byte chunks permuted as tma::Swizzle128Chunk says. The eight
// rows an ldmatrix reads at one logical chunk land in eight distinct chunks: no bank conflicts,
// with no padding.
template <int kKeys>
struct SwizzledTile {
  const __nv_bfloat16* base;
  __device__ __forceinline__ const __nv_bfloat16* At(int row, int e) const {
    const int half = e / 64, chunk = (e % 64) / 8;
    return base + half * kKeys * 64 + row * 64 + tma::Swizzle128Chunk(row, chunk) * 8;
  }
};

// s[16 x kKeys] = q · k^T, k being kKeys rows of D values in shared memory.
template <int D, int kKeys, typename Tile>
__device__ __forceinline__ void QkScoresOf(const uint32_t (&q)[D / 16][4], Tile k,
                                           float (&s)[kKeys / 8][4]) {
  const int lane = threadIdx.x % 32;
#pragma unroll
  for (int n = 0; n < kKeys / 8; ++n) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
  const int key = (lane % 8) + (lane / 16) * 8, d = ((lane / 8) % 2) * 8;
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
#pragma unroll
    for (int np = 0; np < kKeys / 16; ++np) {
      uint32_t b[4];
      LdMatrixX4(b, k.At(np * 16 + key, kk * 16 + d));
      Mma16816(s[2 * np], q[kk], b[0], b[1]);
      Mma16816(s[2 * np + 1], q[kk], b[2], b[3]);
    }
  }
}

// o[16 x D] += p · v, p being the probabilities in s's accumulator layout (rounded to bf16).
template <int D, int kKeys, typename Tile>
__device__ __forceinline__ void AccumulatePvOf(const float (&s)[kKeys / 8][4], Tile v,
                                               float (&o)[D / 8][4]) {
  const int lane = threadIdx.x % 32;
  const int key = (lane % 8) + ((lane / 8) % 2) * 8, d = (lane / 16) * 8;
#pragma unroll
  for (int kc = 0; kc < kKeys / 16; ++kc) {
    const uint32_t a[4] = {
        PackBf16(s[2 * kc][0], s[2 * kc][1]), PackBf16(s[2 * kc][2], s[2 * kc][3]),
        PackBf16(s[2 * kc + 1][0], s[2 * kc + 1][1]), PackBf16(s[2 * kc + 1][2], s[2 * kc + 1][3])};
#pragma unroll
    for (int dp = 0; dp < D / 16; ++dp) {
      uint32_t b[4];
      LdMatrixX4Trans(b, v.At(kc * 16 + key, dp * 16 + d));
      Mma16816(o[2 * dp], a, b[0], b[1]);
      Mma16816(o[2 * dp + 1], a, b[2], b[3]);
    }
  }
}

// The padded-row forms, as the cp.async kernels call them.
template <int D, int kKeys, int kStride>
__device__ __forceinline__ void QkScores(const uint32_t (&q)[D / 16][4], const __nv_bfloat16* k,
                                         float (&s)[kKeys / 8][4]) {
  QkScoresOf<D, kKeys>(q, PaddedTile<kStride>{k}, s);
}

template <int D, int kKeys, int kStride>
__device__ __forceinline__ void AccumulatePv(const float (&s)[kKeys / 8][4], const __nv_bfloat16* v,
                                             float (&o)[D / 8][4]) {
  AccumulatePvOf<D, kKeys>(s, PaddedTile<kStride>{v}, o);
}

// Per-lane softmax state for its two rows (l/4 and l/4 + 8), in the log2 domain. `sum` is this
// lane's partial row sum; the quad's partials are added once at the end.
struct RowState {
  float max[2] = {-INFINITY, -INFINITY};
  float sum[2] = {0.0f, 0.0f};
};

// Turns scaled, masked scores (log2 units, -inf where masked) into probabilities relative to the
// running maximum and rescales the accumulator. `row_halves` is 1 when rows 8..15 (each lane's
// second row) hold no query, as in decode with a GQA group of at most 8: their probabilities are
// set to 0 and their state is left alone. A row whose maximum did not change skips the rescale
// (alpha is exactly 1 then, so the result is the same), which over a long context is most tiles.
template <int D, int kKeys>
__device__ __forceinline__ void OnlineSoftmax(float (&s)[kKeys / 8][4], float (&o)[D / 8][4],
                                              RowState& state, int row_halves) {
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    if (r >= row_halves) {
#pragma unroll
      for (int n = 0; n < kKeys / 8; ++n) s[n][2 * r] = s[n][2 * r + 1] = 0.0f;
      continue;
    }
    float tile_max = -INFINITY;
#pragma unroll
    for (int n = 0; n < kKeys / 8; ++n)
      tile_max = fmaxf(tile_max, fmaxf(s[n][2 * r], s[n][2 * r + 1]));
    tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
    tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 2));
    const float new_max = fmaxf(state.max[r], tile_max);
    // A row with nothing visible yet keeps a finite reference so exp2 never sees inf - inf.
    const float reference = new_max == -INFINITY ? 0.0f : new_max;
    float sum = 0.0f;
#pragma unroll
    for (int n = 0; n < kKeys / 8; ++n) {
      s[n][2 * r] = exp2f(s[n][2 * r] - reference);
      s[n][2 * r + 1] = exp2f(s[n][2 * r + 1] - reference);
      sum += s[n][2 * r] + s[n][2 * r + 1];
    }
    if (new_max != state.max[r]) {
      const float alpha = exp2f(state.max[r] - reference);
      state.sum[r] *= alpha;
#pragma unroll
      for (int n = 0; n < D / 8; ++n) {
        o[n][2 * r] *= alpha;
        o[n][2 * r + 1] *= alpha;
      }
      state.max[r] = new_max;
    }
    state.sum[r] += sum;
  }
}

// Adds the quad's partial sums: afterwards every lane holds its rows' full sums.
__device__ __forceinline__ void FinishRowSums(RowState& state) {
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    state.sum[r] += __shfl_xor_sync(0xffffffffu, state.sum[r], 1);
    state.sum[r] += __shfl_xor_sync(0xffffffffu, state.sum[r], 2);
  }
}

}  // namespace stride::kernels::attention
