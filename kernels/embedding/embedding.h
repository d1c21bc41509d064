// Token embedding lookup on the GPU: out[t, :] = float(table[ids[t], :]). The CUDA runner's first
// op; it writes the fp32 residual stream. Checked against cpu::Embedding.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace stride::kernels {

struct EmbeddingParams {
  const __nv_bfloat16* table = nullptr;  // [vocab, hidden]
  const int32_t* ids = nullptr;          // [num_tokens], each in [0, vocab)
  float* out = nullptr;                  // [num_tokens, hidden]
  int num_tokens = 0;
  int hidden = 0;
};

cudaError_t LaunchEmbedding(const EmbeddingParams& p, cudaStream_t stream);

}  // namespace stride::kernels
