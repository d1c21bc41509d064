// Token embedding lookup on the GPU: out[t, :] = float(table[ids[t], :]). The CUDA runner's first
// op; it writes the fp32 residual stream. Checked against cpu::Embedding.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/common/dtype.h"

namespace stride::kernels {

struct EmbeddingParams {
  const void* table = nullptr;   // [vocab, hidden], element type `dtype`
  const int32_t* ids = nullptr;  // [num_tokens], each in [0, vocab)
  float* out = nullptr;          // [num_tokens, hidden]
  int num_tokens = 0;
  int hidden = 0;
  DType dtype = DType::kBF16;
  // Optional, [num_tokens]: where src_rows[t] >= 0, token t's id is src_tokens[src_rows[t] *
  // src_stride] instead of ids[t] (a token sampled on the device by the previous step).
  const int32_t* src_rows = nullptr;
  const int32_t* src_tokens = nullptr;
  int src_stride = 1;
};

cudaError_t LaunchEmbedding(const EmbeddingParams& p, cudaStream_t stream);

}  // namespace stride::kernels
