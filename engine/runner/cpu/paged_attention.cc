#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/runner/cpu/ops.h"

namespace stride::engine::runner::cpu {

void WriteKvCache(const float* k, const float* v, int num_tokens, const int64_t* slots,
                  int num_kv_heads, int head_dim, float* k_cache, float* v_cache) {
  const int64_t token_size = static_cast<int64_t>(num_kv_heads) * head_dim;
  for (int t = 0; t < num_tokens; ++t) {
    std::memcpy(k_cache + slots[t] * token_size, k + t * token_size, sizeof(float) * token_size);
    std::memcpy(v_cache + slots[t] * token_size, v + t * token_size, sizeof(float) * token_size);
  }
}

void PagedAttention(const PagedAttentionParams& p, base::ThreadPool& pool) {
  const int group = p.num_heads / p.num_kv_heads;
  const int64_t token_stride = static_cast<int64_t>(p.num_kv_heads) * p.head_dim;
  const int64_t block_stride = token_stride * p.block_size;
  const int64_t num_rows = static_cast<int64_t>(p.num_tokens) * p.num_heads;
  pool.ParallelFor(num_rows, 4, [&](int64_t begin, int64_t end) {
    std::vector<float> scores;
    for (int64_t row = begin; row < end; ++row) {
      const int t = static_cast<int>(row / p.num_heads), h = static_cast<int>(row % p.num_heads);
      const int kv_head = h / group;
      const int position = p.first_position + t;
      const int first_key = p.sliding_window > 0 ? std::max(0, position - p.sliding_window + 1) : 0;
      const float* q = p.q + row * p.head_dim;
      auto key_at = [&](int pos, const float* cache) {
        return cache + p.block_table[pos / p.block_size] * block_stride +
               (pos % p.block_size) * token_stride + static_cast<int64_t>(kv_head) * p.head_dim;
      };
      scores.resize(position - first_key + 1);
      float max_score = -std::numeric_limits<float>::infinity();
      for (int pos = first_key; pos <= position; ++pos) {
        const float* k = key_at(pos, p.k_cache);
        float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (int d = 0; d < p.head_dim; ++d) dot += q[d] * k[d];
        float s = dot * p.scale;
        scores[pos - first_key] = s;
        max_score = std::max(max_score, s);
      }
      double denominator = 0.0;
      for (float& s : scores) {
        s = std::exp(s - max_score);
        denominator += s;
      }
      float* out = p.out + row * p.head_dim;
      std::fill(out, out + p.head_dim, 0.0f);
      const float inv_denominator = static_cast<float>(1.0 / denominator);
      for (int pos = first_key; pos <= position; ++pos) {
        const float* v = key_at(pos, p.v_cache);
        const float weight = scores[pos - first_key] * inv_denominator;
#pragma omp simd
        for (int d = 0; d < p.head_dim; ++d) out[d] += weight * v[d];
      }
    }
  });
}

}  // namespace stride::engine::runner::cpu
