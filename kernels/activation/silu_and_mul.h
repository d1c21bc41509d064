// SwiGLU's activation on the fused gate_up projection: out[r, i] = silu(g) * u with
// g = gate_up[r, i] (+ bias[i]) and u = gate_up[r, F + i] (+ bias[F + i]). Checked against
// cpu::SiluAndMul.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace stride::kernels {

struct SiluAndMulParams {
  const __nv_bfloat16* gate_up = nullptr;  // [rows, 2 * width]
  const __nv_bfloat16* bias = nullptr;     // optional [2 * width]
  __nv_bfloat16* out = nullptr;            // [rows, width]
  int rows = 0;
  int width = 0;
};

cudaError_t LaunchSiluAndMul(const SiluAndMulParams& p, cudaStream_t stream);

}  // namespace stride::kernels
