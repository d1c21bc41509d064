#include "kernels/common/device_utils.cuh"
#include "kernels/common/pdl.cuh"
#include "kernels/norm/rms_norm.h"

namespace stride::kernels {
namespace {

constexpr int kThreads = 256;

// One block per row. The row is read once into registers-or-L1 and written once; dim up to a
// few thousand values, so a second pass over global memory hits L1/L2. T is the element type of
// add, add_bias, weight and out.
template <typename T>
__global__ void __launch_bounds__(kThreads) FusedAddRmsNormKernel(FusedAddRmsNormParams p) {
  __shared__ float scratch[kThreads / 32];
  WaitForPrecedingGrid();
  AllowDependentLaunch();
  const int r = blockIdx.x;
  const int src = p.row_index != nullptr ? p.row_index[r] : r;
  float* residual = p.residual + static_cast<int64_t>(src) * p.dim;
  const T* add =
      p.add != nullptr ? static_cast<const T*>(p.add) + static_cast<int64_t>(src) * p.dim : nullptr;
  const T* add_bias = static_cast<const T*>(p.add_bias);
  const T* weight = static_cast<const T*>(p.weight);
  float sum_squares = 0.0f;
  for (int i = threadIdx.x; i < p.dim; i += kThreads) {
    float x = residual[i];
    if (add != nullptr) {
      x += ToFloat(add[i]);
      if (add_bias != nullptr) x += ToFloat(add_bias[i]);
      residual[i] = x;
    }
    sum_squares += x * x;
  }
  const float total = BlockSum(sum_squares, scratch);
  const float inv_rms = rsqrtf(total / p.dim + p.eps);
  T* out = static_cast<T*>(p.out) + static_cast<int64_t>(r) * p.dim;
  for (int i = threadIdx.x; i < p.dim; i += kThreads) {
    out[i] = FromFloat<T>(ToFloat(weight[i]) * (residual[i] * inv_rms));
  }
}

// Rows of up to kVec * 4 * kThreads values (dim % 4 == 0): every load of the row is issued at
// once (float4 residual, four-element add/bias/weight: 8 bytes of bf16, 16 of fp32) and the row
// stays in registers, so a row costs one memory round trip instead of dim / kThreads dependent
// ones.
template <typename T, int kVec>
__global__ void __launch_bounds__(kThreads) FusedAddRmsNormVecKernel(FusedAddRmsNormParams p) {
  using Packed = Packed4<T>;
  using Quad = typename Packed::Type;
  __shared__ float scratch[kThreads / 32];
  WaitForPrecedingGrid();
  AllowDependentLaunch();
  const int r = blockIdx.x;
  const int src = p.row_index != nullptr ? p.row_index[r] : r;
  const int quads = p.dim / 4;
  float4* residual = reinterpret_cast<float4*>(p.residual + static_cast<int64_t>(src) * p.dim);
  const Quad* add = p.add != nullptr
                        ? reinterpret_cast<const Quad*>(static_cast<const T*>(p.add) +
                                                        static_cast<int64_t>(src) * p.dim)
                        : nullptr;
  const Quad* bias = static_cast<const Quad*>(p.add_bias);
  float4 x[kVec];
  Quad a[kVec], b[kVec];
#pragma unroll
  for (int v = 0; v < kVec; ++v) {
    const int i = threadIdx.x + v * kThreads;
    if (i < quads) {
      x[v] = residual[i];
      if (add != nullptr) a[v] = add[i];
      if (add != nullptr && bias != nullptr) b[v] = bias[i];
    }
  }
  float sum_squares = 0.0f;
#pragma unroll
  for (int v = 0; v < kVec; ++v) {
    const int i = threadIdx.x + v * kThreads;
    if (i >= quads) continue;
    if (add != nullptr) {
      float fa[4], fb[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      Packed::Unpack(a[v], fa);
      if (bias != nullptr) Packed::Unpack(b[v], fb);
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
  const Quad* weight = static_cast<const Quad*>(p.weight);
  Quad* out = reinterpret_cast<Quad*>(static_cast<T*>(p.out) + static_cast<int64_t>(r) * p.dim);
#pragma unroll
  for (int v = 0; v < kVec; ++v) {
    const int i = threadIdx.x + v * kThreads;
    if (i >= quads) continue;
    float fw[4];
    Packed::Unpack(weight[i], fw);
    out[i] = Packed::Pack(fw[0] * (x[v].x * inv_rms), fw[1] * (x[v].y * inv_rms),
                          fw[2] * (x[v].z * inv_rms), fw[3] * (x[v].w * inv_rms));
  }
}

template <typename T>
cudaError_t Launch(const FusedAddRmsNormParams& p, cudaStream_t stream) {
  const int quads_per_thread = (p.dim / 4 + kThreads - 1) / kThreads;
  if (p.dim % 4 == 0 && quads_per_thread <= 8) {
    const auto kernel = quads_per_thread <= 1   ? FusedAddRmsNormVecKernel<T, 1>
                        : quads_per_thread <= 2 ? FusedAddRmsNormVecKernel<T, 2>
                        : quads_per_thread <= 4 ? FusedAddRmsNormVecKernel<T, 4>
                                                : FusedAddRmsNormVecKernel<T, 8>;
    return LaunchPdl(kernel, p.rows, kThreads, 0, stream, p);
  }
  return LaunchPdl(FusedAddRmsNormKernel<T>, p.rows, kThreads, 0, stream, p);
}

}  // namespace

cudaError_t LaunchFusedAddRmsNorm(const FusedAddRmsNormParams& p, cudaStream_t stream) {
  if (p.rows == 0) return cudaSuccess;
  return p.dtype == DType::kF32 ? Launch<float>(p, stream) : Launch<__nv_bfloat16>(p, stream);
}

}  // namespace stride::kernels
