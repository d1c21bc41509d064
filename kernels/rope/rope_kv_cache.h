// The step between the fused QKV projection and attention, in one pass per token:
//   q, k, v = split(qkv) + bias                      (bias: Qwen2, Llama attention_bias)
//   q, k    = RMSNorm over each head (q_norm/k_norm)  (Qwen3)
//   q, k    = RoPE at positions[t] (rotate_half; inv_freq and attention_scaling from
//             model::ComputeRopeFrequencies, so every RoPE variant is one table)
//   k, v    -> the paged cache at slot_mapping[t] (block * block_size + offset; < 0: skipped)
// The rotated q goes to q_out; the math is fp32 and only the stores round to `dtype` (and the
// cache stores to `kv_dtype`: fp8 e4m3 holds k / k_scale and v / v_scale, saturated to +-448).
// Checked against cpu::RmsNorm, cpu::ApplyRope and cpu::WriteKvCache.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/common/dtype.h"

namespace stride::kernels {

struct RopeKvCacheParams {
  // [num_tokens, (num_heads + 2 * num_kv_heads) * head_dim], element type `dtype`
  const void* qkv = nullptr;
  const void* bias = nullptr;    // optional, one row of qkv's width, element type `dtype`
  const void* q_norm = nullptr;  // optional [head_dim], element type `dtype`
  const void* k_norm = nullptr;  // optional [head_dim], element type `dtype`
  float norm_eps = 1e-6f;
  const int32_t* positions = nullptr;  // [num_tokens]
  const float* inv_freq = nullptr;     // [head_dim / 2]
  float attention_scaling = 1.0f;
  const int64_t* slot_mapping = nullptr;  // [num_tokens]
  void* q_out = nullptr;                  // [num_tokens, num_heads, head_dim], element type `dtype`
  // [num_blocks, block_size, num_kv_heads, head_dim], element type `kv_dtype`
  void* k_cache = nullptr;
  void* v_cache = nullptr;  // as k_cache
  DType kv_dtype = DType::kBF16;  // `dtype`, or kFP8E4M3 with bf16 `dtype`
  float k_scale = 1.0f;           // fp8 cache: the stored element is k / k_scale
  float v_scale = 1.0f;
  int num_tokens = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;  // even, at most 256
  DType dtype = DType::kBF16;
};

cudaError_t LaunchRopeKvCache(const RopeKvCacheParams& p, cudaStream_t stream);

}  // namespace stride::kernels
