// The step between the fused QKV projection and attention, in one pass per token:
//   q, k, v = split(qkv) + bias                      (bias: Qwen2, Llama attention_bias)
//   q, k    = RMSNorm over each head (q_norm/k_norm)  (Qwen3)
//   q, k    = RoPE at positions[t] (rotate_half; inv_freq and attention_scaling from
//             model::ComputeRopeFrequencies, so every RoPE variant is one table)
//   k, v    -> the paged cache at slot_mapping[t] (block * block_size + offset; < 0: skipped)
// The rotated q goes to q_out. Checked against cpu::RmsNorm, cpu::ApplyRope and cpu::WriteKvCache.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace stride::kernels {

struct RopeKvCacheParams {
  const __nv_bfloat16* qkv = nullptr;   // [num_tokens, (num_heads + 2 * num_kv_heads) * head_dim]
  const __nv_bfloat16* bias = nullptr;  // optional, one row of qkv's width
  const __nv_bfloat16* q_norm = nullptr;  // optional [head_dim]
  const __nv_bfloat16* k_norm = nullptr;  // optional [head_dim]
  float norm_eps = 1e-6f;
  const int32_t* positions = nullptr;    // [num_tokens]
  const float* inv_freq = nullptr;       // [head_dim / 2]
  float attention_scaling = 1.0f;
  const int64_t* slot_mapping = nullptr;  // [num_tokens]
  __nv_bfloat16* q_out = nullptr;         // [num_tokens, num_heads, head_dim]
  __nv_bfloat16* k_cache = nullptr;       // [num_blocks, block_size, num_kv_heads, head_dim]
  __nv_bfloat16* v_cache = nullptr;
  int num_tokens = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;  // even, at most 256
};

cudaError_t LaunchRopeKvCache(const RopeKvCacheParams& p, cudaStream_t stream);

}  // namespace stride::kernels
