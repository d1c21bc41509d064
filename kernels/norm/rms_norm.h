// RMSNorm fused with the residual add, the CUDA runner's norm between sub-layers:
//   residual[r] += add[r] + add_bias        (when add is given; the residual stream is fp32)
//   out[r]       = residual[r] / sqrt(mean(residual[r]^2) + eps) * weight   (element type dtype)
// With row_index, output row r reads residual row row_index[r] (the final norm runs only on the
// rows that need logits). Rows with dim % 4 == 0 (up to 8192) move four values per load, so the
// tensors must be 16-byte aligned (8 for bf16 add/add_bias/weight/out). Checked against
// cpu::RmsNorm.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/common/dtype.h"

namespace stride::kernels {

struct FusedAddRmsNormParams {
  float* residual = nullptr;           // [rows of the batch, dim], updated in place
  const void* add = nullptr;           // optional [rows of the batch, dim], element type `dtype`
  const void* add_bias = nullptr;      // optional [dim], added with `add`, element type `dtype`
  const void* weight = nullptr;        // [dim], element type `dtype`
  const int32_t* row_index = nullptr;  // optional [rows]: output row -> residual row
  void* out = nullptr;                 // [rows, dim], element type `dtype`
  int rows = 0;
  int dim = 0;
  float eps = 1e-6f;
  DType dtype = DType::kBF16;
};

cudaError_t LaunchFusedAddRmsNorm(const FusedAddRmsNormParams& p, cudaStream_t stream);

}  // namespace stride::kernels
