// Shared by the paged prefill and decode kernel tests: a random paged KV cache and block tables
// for a set of sequences, and engine::runner::cpu::PagedAttention's output on them. Blocks before
// the window and blocks past the context are the null block, whose memory is NaN, and so are the
// slots past the context in its last block: a kernel reading them fails the test (a masked key's
// weight 0 times NaN is NaN), so a tile's keys past the context must be zero-filled, not read.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "engine/runner/cpu/ops.h"
#include "tests/gpu/gpu_test_util.h"

namespace stride::testing::gpu {

struct Seq {
  int query_len, context_len;
};

struct AttentionCase {
  int heads, kv_heads, head_dim, block_size, window;
  std::vector<Seq> seqs;
};

struct ProblemOptions {
  bool fp32 = false;      // full-precision values; else rounded to bf16 (what bf16 kernels read)
  float q_range = 1.0f;   // q uniform in [-q_range, q_range)
  int first_row = 0;      // query rows before it belong to no sequence
  bool reference = true;  // false: `ref` stays empty (the caller wants it over other cache values)
};

// Random cache and block tables for `s` and the CPU reference output. Sequences with no query
// rows own none; rows of a sequence with fewer keys than queries (padding rows: context 0) have
// reference zero.
struct Problem {
  std::vector<float> q, k_cache, v_cache, ref;
  std::vector<int32_t> tables, query_start, context_lens;
  int width = 0, num_tokens = 0;  // num_tokens: query rows, first_row's included
  int num_blocks = 0;             // the pool's blocks, the null block 0 included

  Problem(const AttentionCase& s, std::mt19937& rng, base::ThreadPool& pool,
          const ProblemOptions& options = {}) {
    auto random = [&](size_t n, float range) {
      return options.fp32 ? RandomValues(n, range, rng) : RandomBf16Values(n, range, rng);
    };
    const int token_width = s.kv_heads * s.head_dim;
    for (const Seq& q : s.seqs)
      width = std::max(width, (q.context_len + s.block_size - 1) / s.block_size);
    width = std::max(width, 1);
    num_blocks = 1 + width * static_cast<int>(s.seqs.size());
    k_cache = random(static_cast<size_t>(num_blocks) * s.block_size * token_width, 1.0f);
    v_cache = random(k_cache.size(), 1.0f);
    std::fill(k_cache.begin(), k_cache.begin() + s.block_size * token_width, NAN);  // null block
    std::fill(v_cache.begin(), v_cache.begin() + s.block_size * token_width, NAN);
    std::vector<int32_t> blocks(num_blocks - 1);
    std::iota(blocks.begin(), blocks.end(), 1);
    std::shuffle(blocks.begin(), blocks.end(), rng);
    tables.assign(s.seqs.size() * width, 0);
    for (size_t i = 0; i < s.seqs.size(); ++i) {
      const int first = s.seqs[i].context_len - s.seqs[i].query_len;
      for (int b = 0; b < width; ++b) {
        const bool before_window = s.window > 0 && (b + 1) * s.block_size <= first - s.window + 1;
        const bool past_context = b * s.block_size >= s.seqs[i].context_len;
        tables[i * width + b] = before_window || past_context ? 0 : blocks[i * width + b];
      }
      // Slots past the context in its last block hold keys that do not exist yet.
      const int used = s.seqs[i].context_len % s.block_size;
      if (used > 0) {
        const size_t last = tables[i * width + (s.seqs[i].context_len - 1) / s.block_size];
        const size_t begin = (last * s.block_size + used) * token_width;
        const size_t end = (last + 1) * s.block_size * token_width;
        std::fill(k_cache.begin() + begin, k_cache.begin() + end, NAN);
        std::fill(v_cache.begin() + begin, v_cache.begin() + end, NAN);
      }
    }
    num_tokens = options.first_row;
    for (const Seq& q : s.seqs) {
      query_start.push_back(num_tokens);
      context_lens.push_back(q.context_len);
      num_tokens += q.query_len;
    }
    query_start.push_back(num_tokens);
    const size_t row = static_cast<size_t>(s.heads) * s.head_dim;
    q = random(num_tokens * row, options.q_range);
    if (options.reference) ref = ReferenceOver(s, k_cache, v_cache, pool);
  }

  // cpu::PagedAttention of every sequence over caches k and v (of this problem's layout, e.g.
  // the fp8 values of k_cache and v_cache), one sequence at a time; `ref` is this over the bf16
  // caches.
  std::vector<float> ReferenceOver(const AttentionCase& s, const std::vector<float>& k,
                                   const std::vector<float>& v, base::ThreadPool& pool) const {
    const size_t row = static_cast<size_t>(s.heads) * s.head_dim;
    std::vector<float> out(q.size(), 0.0f);
    for (size_t i = 0; i < s.seqs.size(); ++i) {
      if (s.seqs[i].query_len == 0 || s.seqs[i].context_len < s.seqs[i].query_len) continue;
      engine::runner::cpu::PagedAttentionParams p;
      p.q = q.data() + query_start[i] * row;
      p.out = out.data() + query_start[i] * row;
      p.k_cache = k.data();
      p.v_cache = v.data();
      p.block_table = tables.data() + i * width;
      p.block_size = s.block_size;
      p.num_tokens = s.seqs[i].query_len;
      p.first_position = s.seqs[i].context_len - s.seqs[i].query_len;
      p.num_heads = s.heads;
      p.num_kv_heads = s.kv_heads;
      p.head_dim = s.head_dim;
      p.sliding_window = s.window;
      p.scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
      engine::runner::cpu::PagedAttention(p, pool);
    }
    return out;
  }
};

inline std::string Describe(const AttentionCase& s) {
  return std::to_string(s.heads) + "/" + std::to_string(s.kv_heads) + " d" +
         std::to_string(s.head_dim) + " bs" + std::to_string(s.block_size) + " window " +
         std::to_string(s.window);
}

}  // namespace stride::testing::gpu
