#include <cuda_fp8.h>

#include <cmath>

#include "kernels/common/device_utils.cuh"
#include "kernels/common/pdl.cuh"
#include "kernels/rope/rope_kv_cache.h"

namespace stride::kernels {
namespace {

constexpr int kWarps = 4;
constexpr int kMaxPairsPerLane = 4;  // head_dim <= 256

// Grid (token, head group): one warp per head, so a decode step's few tokens still spread over
// (heads / kWarps) blocks per token instead of one block walking every head in turn. Lane l owns
// the rotation pairs (i, i + half) for i = l, l + 32, ...; per-head RMSNorm reduces over the warp.
// A cache store: C is T, or fp8 e4m3 holding x / scale (round to nearest, saturated).
template <typename C>
__device__ __forceinline__ void StoreCache(C* dst, float x, float /*scale*/) {
  *dst = FromFloat<C>(x);
}
template <>
__device__ __forceinline__ void StoreCache(__nv_fp8_e4m3* dst, float x, float scale) {
  *dst = __nv_fp8_e4m3(x / scale);
}

// T is the element type of qkv, bias, the norms and q_out; C that of the cache.
template <typename T, typename C>
__global__ void __launch_bounds__(kWarps * 32) RopeKvCacheKernel(RopeKvCacheParams p) {
  const int t = blockIdx.x;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int half = p.head_dim / 2;
  const int total_heads = p.num_heads + 2 * p.num_kv_heads;
  const int64_t row_width = static_cast<int64_t>(total_heads) * p.head_dim;
  // Positions and slots are step metadata, copied before the step's first kernel.
  const int64_t slot = p.slot_mapping[t];
  const float position = static_cast<float>(p.positions[t]);
  const int h = blockIdx.y * kWarps + warp;

  // cos/sin per owned pair: they depend only on the position, so they are computed while the
  // previous kernel (the QKV projection) may still be finishing.
  float cos_v[kMaxPairsPerLane], sin_v[kMaxPairsPerLane];
#pragma unroll
  for (int j = 0; j < kMaxPairsPerLane; ++j) {
    const int i = lane + 32 * j;
    cos_v[j] = sin_v[j] = 0.0f;
    if (i < half) {
      // Float32 angle as transformers computes it; accurate sincos (no fast math).
      const float angle = p.inv_freq[i] * position;
      float s, c;
      sincosf(angle, &s, &c);
      cos_v[j] = c * p.attention_scaling;
      sin_v[j] = s * p.attention_scaling;
    }
  }

  WaitForPrecedingGrid();
  AllowDependentLaunch();
  if (h < total_heads) {
    const int64_t base = static_cast<int64_t>(t) * row_width + static_cast<int64_t>(h) * p.head_dim;
    const T* src = static_cast<const T*>(p.qkv) + base;
    const T* bias = p.bias != nullptr
                        ? static_cast<const T*>(p.bias) + static_cast<int64_t>(h) * p.head_dim
                        : nullptr;
    float a[kMaxPairsPerLane], b[kMaxPairsPerLane];
    float sum_squares = 0.0f;
#pragma unroll
    for (int j = 0; j < kMaxPairsPerLane; ++j) {
      const int i = lane + 32 * j;
      a[j] = b[j] = 0.0f;
      if (i < half) {
        a[j] = ToFloat(src[i]);
        b[j] = ToFloat(src[i + half]);
        if (bias != nullptr) {
          a[j] += ToFloat(bias[i]);
          b[j] += ToFloat(bias[i + half]);
        }
        sum_squares += a[j] * a[j] + b[j] * b[j];
      }
    }
    const bool is_q = h < p.num_heads;
    const bool is_v = h >= p.num_heads + p.num_kv_heads;
    const T* q_norm = static_cast<const T*>(p.q_norm);
    const T* k_norm = static_cast<const T*>(p.k_norm);
    const T* norm = is_q ? q_norm : (is_v ? nullptr : k_norm);
    if (norm != nullptr) {
      const float inv_rms = rsqrtf(WarpSum(sum_squares) / p.head_dim + p.norm_eps);
#pragma unroll
      for (int j = 0; j < kMaxPairsPerLane; ++j) {
        const int i = lane + 32 * j;
        if (i < half) {
          a[j] = ToFloat(norm[i]) * (a[j] * inv_rms);
          b[j] = ToFloat(norm[i + half]) * (b[j] * inv_rms);
        }
      }
    }
    T* q_dst = nullptr;  // a q head goes to q_out, a k or v head to its cache slot
    C* kv_dst = nullptr;
    if (is_q) {
      q_dst = static_cast<T*>(p.q_out) + (static_cast<int64_t>(t) * p.num_heads + h) * p.head_dim;
    } else {
      if (slot < 0) return;
      const int kv_head = is_v ? h - p.num_heads - p.num_kv_heads : h - p.num_heads;
      kv_dst = static_cast<C*>(is_v ? p.v_cache : p.k_cache) +
               (slot * p.num_kv_heads + kv_head) * static_cast<int64_t>(p.head_dim);
    }
    const float cache_scale = is_v ? p.v_scale : p.k_scale;
#pragma unroll
    for (int j = 0; j < kMaxPairsPerLane; ++j) {
      const int i = lane + 32 * j;
      if (i < half) {
        float x = a[j], y = b[j];
        if (!is_v) {
          x = a[j] * cos_v[j] - b[j] * sin_v[j];
          y = b[j] * cos_v[j] + a[j] * sin_v[j];
        }
        if (is_q) {
          q_dst[i] = FromFloat<T>(x);
          q_dst[i + half] = FromFloat<T>(y);
        } else {
          StoreCache(kv_dst + i, x, cache_scale);
          StoreCache(kv_dst + i + half, y, cache_scale);
        }
      }
    }
  }
}

}  // namespace

cudaError_t LaunchRopeKvCache(const RopeKvCacheParams& p, cudaStream_t stream) {
  if (p.num_tokens == 0) return cudaSuccess;
  if (p.head_dim % 2 != 0 || p.head_dim > 2 * 32 * kMaxPairsPerLane) return cudaErrorInvalidValue;
  const int total_heads = p.num_heads + 2 * p.num_kv_heads;
  const dim3 grid(p.num_tokens, (total_heads + kWarps - 1) / kWarps);
  const bool fp8 = p.kv_dtype == DType::kFP8E4M3;
  if (p.dtype == DType::kFP8E4M3 || (p.kv_dtype != p.dtype && !(fp8 && p.dtype == DType::kBF16))) {
    return cudaErrorInvalidValue;
  }
  if (fp8 && !(p.k_scale > 0.0f && std::isfinite(p.k_scale) && p.v_scale > 0.0f &&
               std::isfinite(p.v_scale))) {
    return cudaErrorInvalidValue;
  }
  const auto kernel = p.dtype == DType::kF32 ? RopeKvCacheKernel<float, float>
                      : fp8                  ? RopeKvCacheKernel<__nv_bfloat16, __nv_fp8_e4m3>
                                             : RopeKvCacheKernel<__nv_bfloat16, __nv_bfloat16>;
  return LaunchPdl(kernel, grid, kWarps * 32, 0, stream, p);
}

}  // namespace stride::kernels
