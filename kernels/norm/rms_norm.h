// RMSNorm fused with the residual add, the CUDA runner's norm between sub-layers:
//   residual[r] += add[r] + add_bias        (when add is given; the residual stream is fp32)
//   out[r]       = residual[r] / sqrt(mean(residual[r]^2) + eps) * weight   (bf16)
// With row_index, output row r reads residual row row_index[r] (the final norm runs only on the
// rows that need logits). Checked against cpu::RmsNorm.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace stride::kernels {

struct FusedAddRmsNormParams {
  float* residual = nullptr;                // [rows of the batch, dim], updated in place
  const __nv_bfloat16* add = nullptr;       // optional [rows of the batch, dim]
  const __nv_bfloat16* add_bias = nullptr;  // optional [dim], added with `add`
  const __nv_bfloat16* weight = nullptr;    // [dim]
  const int32_t* row_index = nullptr;       // optional [rows]: output row -> residual row
  __nv_bfloat16* out = nullptr;             // [rows, dim]
  int rows = 0;
  int dim = 0;
  float eps = 1e-6f;
};

cudaError_t LaunchFusedAddRmsNorm(const FusedAddRmsNormParams& p, cudaStream_t stream);

}  // namespace stride::kernels
