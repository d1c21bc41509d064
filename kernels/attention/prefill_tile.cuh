// Warp-level pieces of the paged prefill kernel (paged_prefill.cu). A warp owns kRowBlocks m16
// blocks of query rows; with two (32 rows) every K or V fragment that ldmatrix brings from shared
// memory feeds the MMAs of both blocks (half the shared-memory traffic per FLOP of 16 rows). Q
// stays in shared memory and is re-read per 16-dim slice: at head_dim 128 the two blocks' O
// accumulators (128 registers) and scores (64 for 64 keys) leave no room to keep it in registers.
// Scores stay raw (unscaled) until the softmax, which folds the scale into the exponent's FMA.
// An fp8 (e4m3) KV cache is widened to bf16 tiles in shared memory (WidenE4m3Rows) before these
// pieces read it, so they see bf16 either way.
#pragma once

#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include "kernels/attention/mma_tile.cuh"

namespace stride::kernels::attention::prefill {

// 2^x with the hardware approximation (flushes denormals, like FA2's exp2f under fast math).
__device__ __forceinline__ float Exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

// s[b] = q[rows 16b..16b+15] · k^T: q holds the warp's 16 * kRowBlocks rows, k kKeys rows, both
// with a row stride of kStride elements.
template <int D, int kKeys, int kStride, int kRowBlocks>
__device__ __forceinline__ void QkScores(const __nv_bfloat16* q, const __nv_bfloat16* k,
                                         float (&s)[kRowBlocks][kKeys / 8][4]) {
  const int lane = threadIdx.x % 32;
#pragma unroll
  for (int b = 0; b < kRowBlocks; ++b) {
#pragma unroll
    for (int n = 0; n < kKeys / 8; ++n) s[b][n][0] = s[b][n][1] = s[b][n][2] = s[b][n][3] = 0.0f;
  }
  const int q_row = (lane % 8) + ((lane / 8) % 2) * 8, q_col = (lane / 16) * 8;
  const int key = (lane % 8) + (lane / 16) * 8, k_col = ((lane / 8) % 2) * 8;
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    uint32_t a[kRowBlocks][4];
#pragma unroll
    for (int b = 0; b < kRowBlocks; ++b) {
      LdMatrixX4(a[b], q + (b * 16 + q_row) * kStride + kk * 16 + q_col);
    }
#pragma unroll
    for (int np = 0; np < kKeys / 16; ++np) {
      uint32_t k_frag[4];
      LdMatrixX4(k_frag, k + (np * 16 + key) * kStride + kk * 16 + k_col);
#pragma unroll
      for (int b = 0; b < kRowBlocks; ++b) {
        Mma16816(s[b][2 * np], a[b], k_frag[0], k_frag[1]);
        Mma16816(s[b][2 * np + 1], a[b], k_frag[2], k_frag[3]);
      }
    }
  }
}

// Online softmax state of this lane's rows (row block b, half h -> index 2b + h): the reference
// maximum of the raw scores (see OnlineSoftmax) and this lane's partial sum of exp2 weights.
template <int kRowBlocks>
struct RowStates {
  float max[2 * kRowBlocks];
  float sum[2 * kRowBlocks];
};

template <int kRowBlocks>
__device__ __forceinline__ void InitRowStates(RowStates<kRowBlocks>& state) {
#pragma unroll
  for (int i = 0; i < 2 * kRowBlocks; ++i) state.max[i] = -INFINITY, state.sum[i] = 0.0f;
}

// Raw scores (-inf where masked) -> weights exp2(s * scale_log2 - reference), one FMA and one
// ex2 each. The reference (a row maximum seen so far) moves, and the accumulator is rescaled,
// only when some row of the warp grew by more than kRescaleThreshold (log2 units), so most tiles
// skip the rescale's D/4 multiplies per row. Weights stay <= 2^threshold, far from overflow in
// the fp32 sums and in bf16 P; the result is the same softmax, since the final division uses
// the same reference for the sum and the accumulator.
inline constexpr float kRescaleThreshold = 8.0f;

template <int D, int kKeys, int kRowBlocks>
__device__ __forceinline__ void OnlineSoftmax(float (&s)[kRowBlocks][kKeys / 8][4],
                                              float (&o)[kRowBlocks][D / 8][4],
                                              RowStates<kRowBlocks>& state, float scale_log2) {
  float tile_max[2 * kRowBlocks];
  bool grow = false;
#pragma unroll
  for (int b = 0; b < kRowBlocks; ++b) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int i = 2 * b + h;
      float m = -INFINITY;
#pragma unroll
      for (int n = 0; n < kKeys / 8; ++n) m = fmaxf(m, fmaxf(s[b][n][2 * h], s[b][n][2 * h + 1]));
      m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, 1));
      tile_max[i] = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, 2));
      // -inf - -inf is NaN: a row with nothing visible yet does not grow.
      grow |= (tile_max[i] - state.max[i]) * scale_log2 > kRescaleThreshold;
    }
  }
  if (__any_sync(0xffffffffu, grow)) {
#pragma unroll
    for (int i = 0; i < 2 * kRowBlocks; ++i) {
      const float new_max = fmaxf(state.max[i], tile_max[i]);
      // A row with nothing visible yet keeps a finite reference so exp2 never sees inf - inf.
      const float reference = new_max == -INFINITY ? 0.0f : new_max * scale_log2;
      const float alpha = Exp2(state.max[i] * scale_log2 - reference);
      state.max[i] = new_max;
      state.sum[i] *= alpha;
#pragma unroll
      for (int n = 0; n < D / 8; ++n) {
        o[i / 2][n][2 * (i % 2)] *= alpha;
        o[i / 2][n][2 * (i % 2) + 1] *= alpha;
      }
    }
  }
#pragma unroll
  for (int b = 0; b < kRowBlocks; ++b) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int i = 2 * b + h;
      const float reference = state.max[i] == -INFINITY ? 0.0f : state.max[i] * scale_log2;
      float sum = 0.0f;
#pragma unroll
      for (int n = 0; n < kKeys / 8; ++n) {
        s[b][n][2 * h] = Exp2(fmaf(s[b][n][2 * h], scale_log2, -reference));
        s[b][n][2 * h + 1] = Exp2(fmaf(s[b][n][2 * h + 1], scale_log2, -reference));
        sum += s[b][n][2 * h] + s[b][n][2 * h + 1];
      }
      state.sum[i] += sum;
    }
  }
}

// o[b] += p[b] · v: the weights in s's accumulator layout become the A operand (bf16) directly;
// each V fragment (ldmatrix.trans) feeds both row blocks.
template <int D, int kKeys, int kStride, int kRowBlocks>
__device__ __forceinline__ void AccumulatePv(const float (&s)[kRowBlocks][kKeys / 8][4],
                                             const __nv_bfloat16* v,
                                             float (&o)[kRowBlocks][D / 8][4]) {
  const int lane = threadIdx.x % 32;
  const int key = (lane % 8) + ((lane / 8) % 2) * 8, col = (lane / 16) * 8;
#pragma unroll
  for (int kc = 0; kc < kKeys / 16; ++kc) {
    uint32_t a[kRowBlocks][4];
#pragma unroll
    for (int b = 0; b < kRowBlocks; ++b) {
      a[b][0] = PackBf16(s[b][2 * kc][0], s[b][2 * kc][1]);
      a[b][1] = PackBf16(s[b][2 * kc][2], s[b][2 * kc][3]);
      a[b][2] = PackBf16(s[b][2 * kc + 1][0], s[b][2 * kc + 1][1]);
      a[b][3] = PackBf16(s[b][2 * kc + 1][2], s[b][2 * kc + 1][3]);
    }
#pragma unroll
    for (int dp = 0; dp < D / 16; ++dp) {
      uint32_t v_frag[4];
      LdMatrixX4Trans(v_frag, v + (kc * 16 + key) * kStride + dp * 16 + col);
#pragma unroll
      for (int b = 0; b < kRowBlocks; ++b) {
        Mma16816(o[b][2 * dp], a[b], v_frag[0], v_frag[1]);
        Mma16816(o[b][2 * dp + 1], a[b], v_frag[2], v_frag[3]);
      }
    }
  }
}

// Two e4m3 values (the low byte is the first) as a bf16 pair, exactly: e4m3 -> f16 is exact (one
// cvt on sm_89+), and every e4m3 value, subnormals included, is a normal f16 and a normal bf16, so
// f16 -> f32 -> bf16 is exact too. No scale is applied: the caller folds it into the math.
__device__ __forceinline__ uint32_t E4m3x2ToBf16x2(uint32_t bits) {
  const __half2_raw h =
      __nv_cvt_fp8x2_to_halfraw2(static_cast<__nv_fp8x2_storage_t>(bits & 0xffffu), __NV_E4M3);
  const float2 f = __half22float2(__half2(h));
  return PackBf16(f.x, f.y);
}

// Widens kRowsWide rows of D e4m3 values (D bytes a row, contiguous) into bf16 rows with a stride
// of kStride elements, the CTA's kThreads threads sharing the work: 8 values a step, as one 8-byte
// load and one 16-byte store, so consecutive threads touch consecutive bytes (no bank conflicts
// at D >= 64). The caller synchronises before and after.
template <int D, int kRowsWide, int kStride, int kThreads>
__device__ __forceinline__ void WidenE4m3Rows(const unsigned char* src, __nv_bfloat16* dst) {
  constexpr int kPieces = D / 8;  // 8-value pieces per row
  constexpr int kSteps = kRowsWide * kPieces / kThreads;
  static_assert(kSteps >= 1 && kSteps * kThreads == kRowsWide * kPieces);
  // 8 steps' loads in flight; below sm_89 the conversion is emulated in software, and at D = 128
  // any unrolling there spills (ptxas -v).
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 890
  constexpr int kUnroll = 1;
#else
  constexpr int kUnroll = 8;
#endif
#pragma unroll kUnroll
  for (int step = 0; step < kSteps; ++step) {
    const int i = step * kThreads + static_cast<int>(threadIdx.x);
    const int row = i / kPieces, col = i % kPieces * 8;
    const uint2 e = *reinterpret_cast<const uint2*>(src + row * D + col);
    uint4 w;
    w.x = E4m3x2ToBf16x2(e.x);
    w.y = E4m3x2ToBf16x2(e.x >> 16);
    w.z = E4m3x2ToBf16x2(e.y);
    w.w = E4m3x2ToBf16x2(e.y >> 16);
    *reinterpret_cast<uint4*>(dst + row * kStride + col) = w;
  }
}

// Adds the quad's partial sums: afterwards every lane holds its rows' full sums.
template <int kRowBlocks>
__device__ __forceinline__ void FinishRowSums(RowStates<kRowBlocks>& state) {
#pragma unroll
  for (int i = 0; i < 2 * kRowBlocks; ++i) {
    state.sum[i] += __shfl_xor_sync(0xffffffffu, state.sum[i], 1);
    state.sum[i] += __shfl_xor_sync(0xffffffffu, state.sum[i], 2);
  }
}

}  // namespace stride::kernels::attention::prefill
