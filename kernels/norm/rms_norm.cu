#include "kernels/common/device_utils.cuh"
#include "kernels/common/pdl.cuh"
#include "kernels/norm/rms_norm.h"

namespace stride::kernels {
namespace {

constexpr int kThreads = 256;

// One block per row. The row is read once into registers-or-L1 and written once; dim up to a
// few thousand values, so a second pass over global memory hits L1/L2.
__global__ void __launch_bounds__(kThreads) FusedAddRmsNormKernel(FusedAddRmsNormParams p) {
  __shared__ float scratch[kThreads / 32];
  WaitForPrecedingGrid();
  AllowDependentLaunch();
  const int r = blockIdx.x;
  const int src = p.row_index != nullptr ? p.row_index[r] : r;
  float* residual = p.residual + static_cast<int64_t>(src) * p.dim;
  const __nv_bfloat16* add = p.add != nullptr ? p.add + static_cast<int64_t>(src) * p.dim : nullptr;
  float sum_squares = 0.0f;
  for (int i = threadIdx.x; i < p.dim; i += kThreads) {
    float x = residual[i];
    if (add != nullptr) {
      x += __bfloat162float(add[i]);
      if (p.add_bias != nullptr) x += __bfloat162float(p.add_bias[i]);
      residual[i] = x;
    }
    sum_squares += x * x;
  }
  const float total = BlockSum(sum_squares, scratch);
  const float inv_rms = rsqrtf(total / p.dim + p.eps);
  __nv_bfloat16* out = p.out + static_cast<int64_t>(r) * p.dim;
  for (int i = threadIdx.x; i < p.dim; i += kThreads) {
    out[i] = __float2bfloat16(__bfloat162float(p.weight[i]) * (residual[i] * inv_rms));
  }
}

// Rows of up to kVec * 4 * kThreads values (dim % 4 == 0): every load of the row is issued at
// once (float4 residual, 8-byte bf16 add/bias/weight) and the row stays in registers, so a row
// costs one memory round trip instead of dim / kThreads dependent ones.
template <int kVec>
__global__ void __launch_bounds__(kThreads) FusedAddRmsNormVecKernel(FusedAddRmsNormParams p) {
  __shared__ float scratch[kThreads / 32];
  WaitForPrecedingGrid();
  AllowDependentLaunch();
  const int r = blockIdx.x;
  const int src = p.row_index != nullptr ? p.row_index[r] : r;
  const int quads = p.dim / 4;
  float4* residual = reinterpret_cast<float4*>(p.residual + static_cast<int64_t>(src) * p.dim);
  const uint2* add =
      p.add != nullptr ? reinterpret_cast<const uint2*>(p.add + static_cast<int64_t>(src) * p.dim)
                       : nullptr;
  const uint2* bias = reinterpret_cast<const uint2*>(p.add_bias);
  float4 x[kVec];
  uint2 a[kVec], b[kVec];
#pragma unroll
  for (int v = 0; v < kVec; ++v) {
    const int i = threadIdx.x + v * kThreads;
    if (i < quads) {
      x[v] = residual[i];
      if (add != nullptr) a[v] = add[i];
      if (add != nullptr && bias != nullptr) b[v] = bias[i];
    }
  }
  auto unpack = [](uint2 u, float* f) {
    f[0] = __uint_as_float(u.x << 16);
    f[1] = __uint_as_float(u.x & 0xffff0000u);
    f[2] = __uint_as_float(u.y << 16);
    f[3] = __uint_as_float(u.y & 0xffff0000u);
  };
  float sum_squares = 0.0f;
#pragma unroll
  for (int v = 0; v < kVec; ++v) {
    const int i = threadIdx.x + v * kThreads;
    if (i >= quads) continue;
    if (add != nullptr) {
      float fa[4], fb[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      unpack(a[v], fa);
      if (bias != nullptr) unpack(b[v], fb);
      // Same order as the scalar kernel: (x + add) + bias.
      x[v].x = (x[v].x + fa[0]) + fb[0];
      x[v].y = (x[v].y + fa[1]) + fb[1];
      x[v].z = (x[v].z + fa[2]) + fb[2];
      x[v].w = (x[v].w + fa[3]) + fb[3];
      residual[i] = x[v];
    }
    sum_squares += x[v].x * x[v].x + x[v].y * x[v].y + x[v].z * x[v].z + x[v].w * x[v].w;
  }
  const float total = BlockSum(sum_squares, scratch);
  const float inv_rms = rsqrtf(total / p.dim + p.eps);
  const uint2* weight = reinterpret_cast<const uint2*>(p.weight);
  uint2* out = reinterpret_cast<uint2*>(p.out + static_cast<int64_t>(r) * p.dim);
#pragma unroll
  for (int v = 0; v < kVec; ++v) {
    const int i = threadIdx.x + v * kThreads;
    if (i >= quads) continue;
    float fw[4];
    unpack(weight[i], fw);
    const __nv_bfloat162 lo = __floats2bfloat162_rn(fw[0] * (x[v].x * inv_rms),
                                                    fw[1] * (x[v].y * inv_rms));
    const __nv_bfloat162 hi = __floats2bfloat162_rn(fw[2] * (x[v].z * inv_rms),
                                                    fw[3] * (x[v].w * inv_rms));
    out[i] = make_uint2(*reinterpret_cast<const uint32_t*>(&lo),
                        *reinterpret_cast<const uint32_t*>(&hi));
  }
}

}  // namespace

cudaError_t LaunchFusedAddRmsNorm(const FusedAddRmsNormParams& p, cudaStream_t stream) {
  if (p.rows == 0) return cudaSuccess;
  const int quads_per_thread = (p.dim / 4 + kThreads - 1) / kThreads;
  if (p.dim % 4 == 0 && quads_per_thread <= 8) {
    const auto kernel = quads_per_thread <= 1   ? FusedAddRmsNormVecKernel<1>
                        : quads_per_thread <= 2 ? FusedAddRmsNormVecKernel<2>
                        : quads_per_thread <= 4 ? FusedAddRmsNormVecKernel<4>
                                                : FusedAddRmsNormVecKernel<8>;
    return LaunchPdl(kernel, p.rows, kThreads, 0, stream, p);
  }
  return LaunchPdl(FusedAddRmsNormKernel, p.rows, kThreads, 0, stream, p);
}

}  // namespace stride::kernels
