// Model weights uploaded once to the GPU in the run's element type (bf16, or fp32 for the exact
// mode), with the projections the CUDA runner fuses: q/k/v into one
// [(heads + 2 kv_heads) * head_dim, hidden] matrix and gate/up into one [2 * intermediate, hidden]
// matrix. Any checkpoint dtype is converted on the host.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/model/model_config.h"
#include "engine/model/weights.h"
#include "engine/runner/cuda/device_buffer.h"
#include "kernels/common/dtype.h"

namespace stride::engine::runner::cuda {

struct CudaLayerWeights {
  const void* input_layernorm = nullptr;
  const void* qkv_proj = nullptr;
  const void* qkv_bias = nullptr;  // null when absent
  const void* q_norm = nullptr;    // null when absent
  const void* k_norm = nullptr;
  const void* o_proj = nullptr;
  const void* o_bias = nullptr;
  const void* post_attention_layernorm = nullptr;
  const void* gate_up_proj = nullptr;
  const void* gate_up_bias = nullptr;
  const void* down_proj = nullptr;
  const void* down_bias = nullptr;
};

// Every pointer is to elements of the dtype UploadWeights was given.
struct CudaWeights {
  DeviceBuffer arena;  // every tensor below lives in here
  const void* embed_tokens = nullptr;
  std::vector<CudaLayerWeights> layers;
  const void* norm = nullptr;
  const void* lm_head = nullptr;
};

// Bytes UploadWeights allocates for `config` (fused, lm_head shared when tied).
int64_t CudaWeightBytes(const model::ModelConfig& config, kernels::DType dtype);

CudaWeights UploadWeights(const model::ModelConfig& config, const model::ModelWeights& weights,
                          kernels::DType dtype);

}  // namespace stride::engine::runner::cuda
