// Skinny GEMM for decode (m <= kMaxGemvRows rows of activations): y[m, n] = x[m, k] · w[n, k]^T
// with bf16 operands and fp32 accumulation, bandwidth-bound on the weight read. A CTA of 256
// threads owns a few weight rows and splits k across all its threads (16-byte streaming loads,
// several in flight per thread), so even narrow outputs (n = 4096) launch ~1000 CTAs; partial
// sums meet in shared memory. With `swiglu` the CTA's rows are gate rows i and up rows
// n/2 + i of a fused gate_up weight and it writes silu(g + bg) * (u + bu) into y[m, n / 2]
// directly (no gate_up intermediate, no separate activation kernel). Checked against cpu::Linear
// and cpu::SiluAndMul.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "kernels/gemm/gemm.h"

namespace stride::kernels {

inline constexpr int kMaxGemvRows = 8;

struct GemvParams {
  const __nv_bfloat16* x = nullptr;     // [m, k], 16-byte aligned rows
  const __nv_bfloat16* w = nullptr;     // [n, k]
  const __nv_bfloat16* bias = nullptr;  // optional [n] (swiglu only)
  void* y = nullptr;                    // [m, n] or [m, n / 2] with swiglu; bf16 or fp32
  GemmOutput output = GemmOutput::kBF16;
  bool swiglu = false;
  int m = 0;
  int n = 0;
  int k = 0;
  // Tuning: the weight loads ask L2 for whole 256-byte sector groups (ld .L2::256B), as before
  // round 13. Off by default: a flat read probe moves 4.27 TB/s with that hint and 4.52 without
  // (`stride_gpu_bench --read-ceiling`, kernels/NOTES.md round 13). Kept for A/B measurements.
  bool l2_256b_hint = false;
};

// True when LaunchGemv takes the shape: 1 <= m <= kMaxGemvRows, k % 8 == 0, 16-byte aligned
// x and w, n even with swiglu.
bool GemvSupports(const GemvParams& p);

// cudaErrorInvalidValue for a shape GemvSupports rejects.
cudaError_t LaunchGemv(const GemvParams& p, cudaStream_t stream);

}  // namespace stride::kernels
