// The CPU reference backend's operators: fp32, one small function per op of the Llama-family
// decoder. They define what each CUDA kernel must compute (tests/gpu checks kernels against these),
// so they favour plain, obviously-correct loops over cleverness; the pool parallelizes the big ones.
#pragma once

#include <cstdint>
#include <span>

#include "base/thread_pool.h"
#include "engine/model/rope_frequencies.h"

namespace stride::engine::runner::cpu {

// out[t, :] = table[ids[t], :]; table is [vocab, hidden].
void Embedding(const float* table, int hidden, std::span<const int32_t> ids, float* out);

// out = x / sqrt(mean(x^2) + eps) * weight, per row of `dim` values. out may alias x.
void RmsNorm(const float* x, const float* weight, int rows, int dim, double eps, float* out);

// y[r, o] = sum_i x[r, i] * w[o, i] + bias[o]; w is [out_features, in_features] (HF Linear).
// bias may be null.
void Linear(const float* x, int rows, int in_features, const float* w, const float* bias,
            int out_features, float* y, base::ThreadPool& pool);

// Rotates x[t, h, :] (num_tokens x num_heads x head_dim) in place by positions[t], HF's
// rotate_half convention: pairs (i, i + head_dim / 2) share inv_freq[i].
void ApplyRope(float* x, int num_tokens, int num_heads, int head_dim, const int32_t* positions,
               const model::RopeFrequencies& freqs);

// out[r, i] = silu(gate[r, i]) * up[r, i].
void SiluAndMul(const float* gate, const float* up, int64_t count, float* out);

// Writes keys and values of num_tokens tokens ([num_tokens, num_kv_heads, head_dim]) into a paged
// cache laid out [num_blocks, block_size, num_kv_heads, head_dim] at slots[t] (= block * block_size
// + offset).
void WriteKvCache(const float* k, const float* v, int num_tokens, const int64_t* slots,
                  int num_kv_heads, int head_dim, float* k_cache, float* v_cache);

struct PagedAttentionParams {
  const float* q = nullptr;  // [num_tokens, num_heads, head_dim]: one sequence's query chunk
  float* out = nullptr;      // same shape
  const float* k_cache = nullptr;  // [num_blocks, block_size, num_kv_heads, head_dim]
  const float* v_cache = nullptr;
  const int32_t* block_table = nullptr;  // the sequence's blocks, position p in block p / block_size
  int block_size = 16;
  int num_tokens = 0;
  int first_position = 0;  // query t sits at position first_position + t
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int sliding_window = 0;  // 0: full causal; else query p sees keys (p - window, p]
  float scale = 1.0f;      // usually 1 / sqrt(head_dim)
};

// Causal attention of one chunk of queries over every earlier key of its sequence, read through
// the block table (the chunk's own keys must already be written). GQA: query head h reads KV head
// h / (num_heads / num_kv_heads).
void PagedAttention(const PagedAttentionParams& p, base::ThreadPool& pool);

}  // namespace stride::engine::runner::cpu
