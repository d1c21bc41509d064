#include "kernels/common/device_utils.cuh"
#include "kernels/common/pdl.cuh"
#include "kernels/embedding/embedding.h"

namespace stride::kernels {
namespace {

template <typename T>
__global__ void EmbeddingKernel(EmbeddingParams p) {
  WaitForPrecedingGrid();
  AllowDependentLaunch();
  const int t = blockIdx.x;
  const int src = p.src_rows != nullptr ? p.src_rows[t] : -1;
  const int32_t id = src >= 0 ? p.src_tokens[static_cast<int64_t>(src) * p.src_stride] : p.ids[t];
  const T* row = static_cast<const T*>(p.table) + static_cast<int64_t>(id) * p.hidden;
  float* out = p.out + static_cast<int64_t>(t) * p.hidden;
  for (int i = threadIdx.x; i < p.hidden; i += blockDim.x) out[i] = ToFloat(row[i]);
}

}  // namespace

cudaError_t LaunchEmbedding(const EmbeddingParams& p, cudaStream_t stream) {
  if (p.num_tokens == 0) return cudaSuccess;
  if (p.src_rows != nullptr && (p.src_tokens == nullptr || p.src_stride < 1)) {
    return cudaErrorInvalidValue;
  }
  const auto kernel =
      p.dtype == DType::kF32 ? EmbeddingKernel<float> : EmbeddingKernel<__nv_bfloat16>;
  return LaunchPdl(kernel, p.num_tokens, 256, 0, stream, p);
}

}  // namespace stride::kernels
