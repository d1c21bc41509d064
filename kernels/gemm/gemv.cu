#include "kernels/common/device_utils.cuh"
#include "kernels/common/pdl.cuh"
#include "kernels/gemm/gemv.h"

namespace stride::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

// Weights are read once per step: 16-byte loads that skip L1. A warp's 32 loads cover 512
// contiguous bytes of a row already; kHint256 also asks L2 for whole 256-byte sector groups,
// which reads slower (GemvParams::l2_256b_hint).
template <bool kHint256>
__device__ __forceinline__ uint4 LoadStreaming(const uint4* ptr) {
  uint4 v;
  if constexpr (kHint256) {
    asm("ld.global.nc.L1::no_allocate.L2::256B.v4.u32 {%0, %1, %2, %3}, [%4];"
        : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
        : "l"(ptr));
  } else {
    asm("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
        : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
        : "l"(ptr));
  }
  return v;
}

// bf16 pair in one 32-bit word -> two floats (exact: bf16 is the top half of an fp32).
__device__ __forceinline__ float Lo(uint32_t u) { return __uint_as_float(u << 16); }
__device__ __forceinline__ float Hi(uint32_t u) { return __uint_as_float(u & 0xffff0000u); }

__device__ __forceinline__ float Silu(float x) { return x / (1.0f + __expf(-x)); }

// M activation rows (m <= M), R weight rows per CTA, U 16-byte chunks per thread per row in
// flight. kSwiglu: rows [0, R/2) are gate rows, [R/2, R) the matching up rows.
template <int M, int R, int U, bool kSwiglu, bool kF32, bool kHint256>
__global__ void __launch_bounds__(kThreads) GemvKernel(GemvParams p) {
  const int kc = p.k / 8;  // 16-byte chunks per row
  const int half = p.n / 2;
  const uint4* w_rows[R];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    int row;
    if (kSwiglu) {
      const int i = min(blockIdx.x * (R / 2) + r % (R / 2), half - 1);
      row = r < R / 2 ? i : half + i;
    } else {
      row = min(blockIdx.x * R + r, p.n - 1);  // rows past n repeat the last; not written
    }
    w_rows[r] = reinterpret_cast<const uint4*>(p.w + static_cast<int64_t>(row) * p.k);
  }
  const uint4* x4 = reinterpret_cast<const uint4*>(p.x);

  float acc[R][M];
#pragma unroll
  for (int r = 0; r < R; ++r) {
#pragma unroll
    for (int mi = 0; mi < M; ++mi) acc[r][mi] = 0.0f;
  }

  uint4 wv[U][R];
  auto load_weights = [&](int base) {
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int c = base + u * kThreads;
#pragma unroll
      for (int r = 0; r < R; ++r) {
        wv[u][r] = c < kc ? LoadStreaming<kHint256>(w_rows[r] + c) : make_uint4(0, 0, 0, 0);
      }
    }
  };
  // The first weight chunks do not depend on the previous kernel: they are in flight while it
  // finishes (for k = 4096 at m = 1 that is the CTA's whole share of the weights).
  load_weights(threadIdx.x);
  WaitForPrecedingGrid();
  AllowDependentLaunch();

  for (int base = threadIdx.x; base < kc; base += kThreads * U) {
    if (base != static_cast<int>(threadIdx.x)) load_weights(base);
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int c = base + u * kThreads;
#pragma unroll
      for (int mi = 0; mi < M; ++mi) {
        if (mi >= p.m || c >= kc) continue;
        const uint4 xv = __ldg(x4 + static_cast<int64_t>(mi) * kc + c);
        const float xf[8] = {Lo(xv.x), Hi(xv.x), Lo(xv.y), Hi(xv.y),
                             Lo(xv.z), Hi(xv.z), Lo(xv.w), Hi(xv.w)};
#pragma unroll
        for (int r = 0; r < R; ++r) {
          const uint4 w = wv[u][r];
          float a = acc[r][mi];
          a = fmaf(Lo(w.x), xf[0], a);
          a = fmaf(Hi(w.x), xf[1], a);
          a = fmaf(Lo(w.y), xf[2], a);
          a = fmaf(Hi(w.y), xf[3], a);
          a = fmaf(Lo(w.z), xf[4], a);
          a = fmaf(Hi(w.z), xf[5], a);
          a = fmaf(Lo(w.w), xf[6], a);
          a = fmaf(Hi(w.w), xf[7], a);
          acc[r][mi] = a;
        }
      }
    }
  }

  __shared__ float partial[kWarps][R * M];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
#pragma unroll
  for (int r = 0; r < R; ++r) {
#pragma unroll
    for (int mi = 0; mi < M; ++mi) {
      const float v = WarpSum(acc[r][mi]);
      if (lane == 0) partial[warp][r * M + mi] = v;
    }
  }
  __syncthreads();
  if (kSwiglu) {
    const int t = threadIdx.x;
    if (t < (R / 2) * M) {
      const int j = t / M, mi = t % M;
      const int i = blockIdx.x * (R / 2) + j;
      if (i < half && mi < p.m) {
        float g = 0.0f, u = 0.0f;
#pragma unroll
        for (int w = 0; w < kWarps; ++w) {
          g += partial[w][j * M + mi];
          u += partial[w][(R / 2 + j) * M + mi];
        }
        if (p.bias != nullptr) {
          g += __bfloat162float(p.bias[i]);
          u += __bfloat162float(p.bias[half + i]);
        }
        static_cast<__nv_bfloat16*>(p.y)[static_cast<int64_t>(mi) * half + i] =
            __float2bfloat16(Silu(g) * u);
      }
    }
  } else {
    const int t = threadIdx.x;
    if (t < R * M) {
      const int r = t / M, mi = t % M;
      const int row = blockIdx.x * R + r;
      if (row < p.n && mi < p.m) {
        float sum = 0.0f;
#pragma unroll
        for (int w = 0; w < kWarps; ++w) sum += partial[w][r * M + mi];
        const int64_t at = static_cast<int64_t>(mi) * p.n + row;
        if (kF32) {
          static_cast<float*>(p.y)[at] = sum;
        } else {
          static_cast<__nv_bfloat16*>(p.y)[at] = __float2bfloat16(sum);
        }
      }
    }
  }
}

template <int M, int R, int U, bool kHint256>
cudaError_t LaunchShape(const GemvParams& p, cudaStream_t stream) {
  if (p.swiglu) {
    const int blocks = (p.n / 2 + R / 2 - 1) / (R / 2);
    return LaunchPdl(GemvKernel<M, R, U, true, false, kHint256>, blocks, kThreads, 0, stream, p);
  }
  const int blocks = (p.n + R - 1) / R;
  if (p.output == GemmOutput::kF32) {
    return LaunchPdl(GemvKernel<M, R, U, false, true, kHint256>, blocks, kThreads, 0, stream, p);
  }
  return LaunchPdl(GemvKernel<M, R, U, false, false, kHint256>, blocks, kThreads, 0, stream, p);
}

template <int M, int R, int U>
cudaError_t LaunchShape(const GemvParams& p, cudaStream_t stream) {
  return p.l2_256b_hint ? LaunchShape<M, R, U, true>(p, stream)
                        : LaunchShape<M, R, U, false>(p, stream);
}

}  // namespace

bool GemvSupports(const GemvParams& p) {
  const auto aligned = [](const void* ptr) {
    return reinterpret_cast<uintptr_t>(ptr) % 16 == 0;
  };
  return p.m >= 1 && p.m <= kMaxGemvRows && p.n >= 1 && p.k >= 8 && p.k % 8 == 0 &&
         aligned(p.x) && aligned(p.w) && p.y != nullptr &&
         (!p.swiglu || (p.n % 2 == 0 && p.output == GemmOutput::kBF16));
}

cudaError_t LaunchGemv(const GemvParams& p, cudaStream_t stream) {
  if (!GemvSupports(p)) return cudaErrorInvalidValue;
  if (p.m == 1) return LaunchShape<1, 4, 2>(p, stream);
  if (p.m == 2) return LaunchShape<2, 4, 2>(p, stream);
  if (p.m <= 4) return LaunchShape<4, 4, 1>(p, stream);
  return LaunchShape<8, 8, 1>(p, stream);
}

}  // namespace stride::kernels
