// Device-side helpers shared by the kernels: bf16 conversions, warp reductions, 16-byte
// vector types, and loads and stores of a run's element type (bf16 or fp32, kernels/common/dtype.h)
// for kernels templated on it. Included only from .cu files.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace stride::kernels {

// Eight bf16 values: one 16-byte load or store.
struct alignas(16) Bf16x8 {
  __nv_bfloat162 v[4];
};

// A tensor element of type T (__nv_bfloat16 or float) as float, and back (bf16: round to nearest).
__device__ __forceinline__ float ToFloat(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float ToFloat(float x) { return x; }

template <typename T>
__device__ __forceinline__ T FromFloat(float x);
template <>
__device__ __forceinline__ __nv_bfloat16 FromFloat<__nv_bfloat16>(float x) {
  return __float2bfloat16(x);
}
template <>
__device__ __forceinline__ float FromFloat<float>(float x) {
  return x;
}

// Four consecutive elements of type T moved in one load or store (8 bytes of bf16, 16 of fp32):
// Packed4<T>::Type is what to load, Unpack widens it to floats, Pack rounds floats into it.
template <typename T>
struct Packed4;

template <>
struct Packed4<__nv_bfloat16> {
  using Type = uint2;
  // A bf16 is the high half of the float with the same bits, so widening is a shift or a mask.
  static __device__ __forceinline__ void Unpack(uint2 u, float* f) {
    f[0] = __uint_as_float(u.x << 16);
    f[1] = __uint_as_float(u.x & 0xffff0000u);
    f[2] = __uint_as_float(u.y << 16);
    f[3] = __uint_as_float(u.y & 0xffff0000u);
  }
  static __device__ __forceinline__ uint2 Pack(float a, float b, float c, float d) {
    const __nv_bfloat162 lo = __floats2bfloat162_rn(a, b);
    const __nv_bfloat162 hi = __floats2bfloat162_rn(c, d);
    return make_uint2(*reinterpret_cast<const uint32_t*>(&lo),
                      *reinterpret_cast<const uint32_t*>(&hi));
  }
};

template <>
struct Packed4<float> {
  using Type = float4;
  static __device__ __forceinline__ void Unpack(float4 u, float* f) {
    f[0] = u.x;
    f[1] = u.y;
    f[2] = u.z;
    f[3] = u.w;
  }
  static __device__ __forceinline__ float4 Pack(float a, float b, float c, float d) {
    return make_float4(a, b, c, d);
  }
};

// Eight fp32 values: two 16-byte loads or stores.
struct alignas(16) F32x8 {
  float4 v[2];
};

// Eight consecutive elements of type T (16 bytes of bf16, 32 of fp32), as Packed4.
template <typename T>
struct Packed8;

template <>
struct Packed8<__nv_bfloat16> {
  using Type = Bf16x8;
  static __device__ __forceinline__ void Unpack(const Bf16x8& u, float* f) {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float2 x = __bfloat1622float2(u.v[j]);
      f[2 * j] = x.x;
      f[2 * j + 1] = x.y;
    }
  }
  static __device__ __forceinline__ Bf16x8 Pack(const float* f) {
    Bf16x8 u;
#pragma unroll
    for (int j = 0; j < 4; ++j) u.v[j] = __floats2bfloat162_rn(f[2 * j], f[2 * j + 1]);
    return u;
  }
};

template <>
struct Packed8<float> {
  using Type = F32x8;
  static __device__ __forceinline__ void Unpack(const F32x8& u, float* f) {
#pragma unroll
    for (int j = 0; j < 2; ++j) Packed4<float>::Unpack(u.v[j], f + 4 * j);
  }
  static __device__ __forceinline__ F32x8 Pack(const float* f) {
    F32x8 u;
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      u.v[j] = make_float4(f[4 * j], f[4 * j + 1], f[4 * j + 2], f[4 * j + 3]);
    }
    return u;
  }
};

__device__ __forceinline__ float WarpSum(float x) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) x += __shfl_xor_sync(0xffffffffu, x, offset);
  return x;
}

__device__ __forceinline__ float WarpMax(float x) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, offset));
  }
  return x;
}

// Sum over the block; `scratch` holds one float per warp. Every thread gets the result.
__device__ __forceinline__ float BlockSum(float x, float* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int num_warps = (blockDim.x + 31) / 32;
  x = WarpSum(x);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = x;
  __syncthreads();
  float total = 0.0f;
  for (int w = 0; w < num_warps; ++w) total += scratch[w];
  return total;
}

}  // namespace stride::kernels
