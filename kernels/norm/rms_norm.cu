#include "kernels/common/device_utils.cuh"
#include "kernels/norm/rms_norm.h"

namespace stride::kernels {
namespace {

constexpr int kThreads = 256;

// One block per row. The row is read once into registers-or-L1 and written once; dim up to a
// few thousand values, so a second pass over global memory hits L1/L2.
__global__ void __launch_bounds__(kThreads) FusedAddRmsNormKernel(FusedAddRmsNormParams p) {
  __shared__ float scratch[kThreads / 32];
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

}  // namespace

cudaError_t LaunchFusedAddRmsNorm(const FusedAddRmsNormParams& p, cudaStream_t stream) {
  if (p.rows == 0) return cudaSuccess;
  FusedAddRmsNormKernel<<<p.rows, kThreads, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace stride::kernels
