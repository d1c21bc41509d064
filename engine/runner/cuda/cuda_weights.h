// Model weights uploaded once to the GPU in bf16, with the projections the CUDA runner fuses:
// q/k/v into one [(heads + 2 kv_heads) * head_dim, hidden] matrix and gate/up into one
// [2 * intermediate, hidden] matrix. Any checkpoint dtype is converted on the host.
#pragma once

#include <cuda_bf16.h>

#include <cstdint>
#include <vector>

#include "engine/model/model_config.h"
#include "engine/model/weights.h"
#include "engine/runner/cuda/device_buffer.h"

namespace stride::engine::runner::cuda {

struct CudaLayerWeights {
  const __nv_bfloat16* input_layernorm = nullptr;
  const __nv_bfloat16* qkv_proj = nullptr;
  const __nv_bfloat16* qkv_bias = nullptr;  // null when absent
  const __nv_bfloat16* q_norm = nullptr;    // null when absent
  const __nv_bfloat16* k_norm = nullptr;
  const __nv_bfloat16* o_proj = nullptr;
  const __nv_bfloat16* o_bias = nullptr;
  const __nv_bfloat16* post_attention_layernorm = nullptr;
  const __nv_bfloat16* gate_up_proj = nullptr;
  const __nv_bfloat16* gate_up_bias = nullptr;
  const __nv_bfloat16* down_proj = nullptr;
  const __nv_bfloat16* down_bias = nullptr;
};

struct CudaWeights {
  DeviceBuffer arena;  // every tensor below lives in here
  const __nv_bfloat16* embed_tokens = nullptr;
  std::vector<CudaLayerWeights> layers;
  const __nv_bfloat16* norm = nullptr;
  const __nv_bfloat16* lm_head = nullptr;
};

// Bytes UploadWeights allocates for `config` (bf16, fused, lm_head shared when tied).
int64_t CudaWeightBytes(const model::ModelConfig& config);

CudaWeights UploadWeights(const model::ModelConfig& config, const model::ModelWeights& weights);

}  // namespace stride::engine::runner::cuda
