// SwiGLU's activation on the fused gate_up projection: out[r, i] = silu(g) * u with
// g = gate_up[r, i] (+ bias[i]) and u = gate_up[r, F + i] (+ bias[F + i]). Without a bias and with
// width % 8 == 0, eight values move per load, so gate_up and out must be 16-byte aligned. Checked
// against cpu::SiluAndMul.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/common/dtype.h"

namespace stride::kernels {

struct SiluAndMulParams {
  const void* gate_up = nullptr;  // [rows, 2 * width], element type `dtype`
  const void* bias = nullptr;     // optional [2 * width], element type `dtype`
  void* out = nullptr;            // [rows, width], element type `dtype`
  int rows = 0;
  int width = 0;
  DType dtype = DType::kBF16;
};

cudaError_t LaunchSiluAndMul(const SiluAndMulParams& p, cudaStream_t stream);

}  // namespace stride::kernels
