// Paged prefill and decode attention against cpu::PagedAttention: GQA groups 1 to 16, head_dim
// 16/32/64/128, block sizes 8 and 16, chunked prefill and prefix hits (context longer than the
// query chunk), sliding windows, split-KV decode, padding rows. Blocks before the window are the
// null block, whose memory is NaN: reading it would fail the test.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "base/thread_pool.h"
#include "engine/runner/cpu/ops.h"
#include "gtest/gtest.h"
#include "kernels/attention/paged_attention.h"
#include "tests/gpu/gpu_test_util.h"

namespace stride::testing::gpu {
namespace {

namespace cpu = engine::runner::cpu;

struct Seq {
  int query_len, context_len;
};

struct AttentionCase {
  int heads, kv_heads, head_dim, block_size, window;
  std::vector<Seq> seqs;
};

// Random cache and block tables for `s`, the CPU reference output, and device copies.
struct Problem {
  std::vector<float> q, k_cache, v_cache, ref;
  std::vector<int32_t> tables, query_start, context_lens;
  int width = 0, num_tokens = 0;

  Problem(const AttentionCase& s, std::mt19937& rng, base::ThreadPool& pool) {
    const int token_width = s.kv_heads * s.head_dim;
    for (const Seq& q : s.seqs) width = std::max(width, (q.context_len + s.block_size - 1) / s.block_size);
    const int num_blocks = 1 + width * static_cast<int>(s.seqs.size());
    k_cache = RandomBf16Values(static_cast<size_t>(num_blocks) * s.block_size * token_width, 1.0f, rng);
    v_cache = RandomBf16Values(k_cache.size(), 1.0f, rng);
    std::fill(k_cache.begin(), k_cache.begin() + s.block_size * token_width, NAN);  // null block
    std::fill(v_cache.begin(), v_cache.begin() + s.block_size * token_width, NAN);
    std::vector<int32_t> blocks(num_blocks - 1);
    std::iota(blocks.begin(), blocks.end(), 1);
    std::shuffle(blocks.begin(), blocks.end(), rng);
    tables.assign(s.seqs.size() * width, 0);
    for (size_t i = 0; i < s.seqs.size(); ++i) {
      const int first = s.seqs[i].context_len - s.seqs[i].query_len;
      for (int b = 0; b < width; ++b) {
        const bool before_window =
            s.window > 0 && (b + 1) * s.block_size <= first - s.window + 1;
        tables[i * width + b] = before_window ? 0 : blocks[i * width + b];
      }
    }
    for (const Seq& q : s.seqs) {
      query_start.push_back(num_tokens);
      context_lens.push_back(q.context_len);
      num_tokens += q.query_len;
    }
    query_start.push_back(num_tokens);
    const size_t row = static_cast<size_t>(s.heads) * s.head_dim;
    q = RandomBf16Values(num_tokens * row, 1.0f, rng);
    ref.assign(q.size(), 0.0f);
    for (size_t i = 0; i < s.seqs.size(); ++i) {
      if (s.seqs[i].context_len == 0) continue;  // padding row: output zero
      cpu::PagedAttentionParams p;
      p.q = q.data() + query_start[i] * row;
      p.out = ref.data() + query_start[i] * row;
      p.k_cache = k_cache.data();
      p.v_cache = v_cache.data();
      p.block_table = tables.data() + i * width;
      p.block_size = s.block_size;
      p.num_tokens = s.seqs[i].query_len;
      p.first_position = s.seqs[i].context_len - s.seqs[i].query_len;
      p.num_heads = s.heads;
      p.num_kv_heads = s.kv_heads;
      p.head_dim = s.head_dim;
      p.sliding_window = s.window;
      p.scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
      cpu::PagedAttention(p, pool);
    }
  }
};

std::string Describe(const AttentionCase& s) {
  return std::to_string(s.heads) + "/" + std::to_string(s.kv_heads) + " d" +
         std::to_string(s.head_dim) + " bs" + std::to_string(s.block_size) + " window " +
         std::to_string(s.window);
}

TEST(PagedPrefillKernel, MatchesCpuPagedAttention) {
  base::ThreadPool pool(0);
  const std::vector<AttentionCase> setups = {
      {32, 8, 128, 16, 0, {{200, 200}, {37, 1000}, {1, 77}, {64, 64}}},
      {4, 2, 16, 16, 32, {{100, 100}, {17, 300}, {3, 40}}},
      {4, 2, 32, 8, 0, {{31, 31}, {5, 400}}},
      {8, 8, 64, 16, 0, {{130, 130}, {70, 2100}}},
      {28, 4, 128, 16, 0, {{50, 90}, {9, 9}}},
      {32, 8, 128, 16, 100, {{300, 300}, {64, 700}}},
  };
  for (const AttentionCase& s : setups) {
    std::mt19937 rng(FreshSeed());
    Problem problem(s, rng, pool);
    std::vector<int> query_lens, context_lens;
    for (const Seq& q : s.seqs) {
      query_lens.push_back(q.query_len);
      context_lens.push_back(q.context_len);
    }
    const std::vector<kernels::PrefillWorkItem> work = kernels::PlanPagedPrefill(
        query_lens, context_lens, s.heads, s.kv_heads, s.window);

    DeviceArray<__nv_bfloat16> d_q(ToBf16(problem.q)), d_k(ToBf16(problem.k_cache)),
        d_v(ToBf16(problem.v_cache)), d_out(problem.q.size());
    DeviceArray<int32_t> d_tables(problem.tables), d_start(problem.query_start),
        d_context(problem.context_lens);
    DeviceArray<kernels::PrefillWorkItem> d_work(work);
    d_out.Poison();
    kernels::PagedPrefillParams p;
    p.q = d_q.get();
    p.out = d_out.get();
    p.k_cache = d_k.get();
    p.v_cache = d_v.get();
    p.block_tables = d_tables.get();
    p.max_blocks_per_seq = problem.width;
    p.query_start = d_start.get();
    p.context_lens = d_context.get();
    p.work = d_work.get();
    p.num_work = static_cast<int>(work.size());
    p.num_heads = s.heads;
    p.num_kv_heads = s.kv_heads;
    p.head_dim = s.head_dim;
    p.block_size = s.block_size;
    p.sliding_window = s.window;
    p.scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
    GPU_CHECK(kernels::LaunchPagedPrefill(p, nullptr));
    GPU_CHECK(cudaDeviceSynchronize());
    EXPECT_LT(RelativeError(d_out.Download(), problem.ref), 1e-2) << Describe(s);
  }
}

TEST(PagedDecodeKernel, MatchesCpuPagedAttention) {
  base::ThreadPool pool(0);
  const std::vector<AttentionCase> setups = {
      {32, 8, 128, 16, 0, {{1, 1}, {1, 17}, {1, 1000}, {1, 4100}, {1, 0}}},
      {4, 2, 16, 16, 32, {{1, 5}, {1, 100}, {1, 300}}},
      {8, 1, 64, 8, 0, {{1, 333}, {1, 2}}},
      {16, 1, 32, 16, 0, {{1, 64}, {1, 1500}}},
      {32, 8, 128, 16, 500, {{1, 3000}, {1, 499}}},
  };
  for (const AttentionCase& s : setups) {
    for (int splits : {1, 3, 8}) {
      std::mt19937 rng(FreshSeed());
      Problem problem(s, rng, pool);
      const int num_seqs = static_cast<int>(s.seqs.size());
      DeviceArray<__nv_bfloat16> d_q(ToBf16(problem.q)), d_k(ToBf16(problem.k_cache)),
          d_v(ToBf16(problem.v_cache)), d_out(problem.q.size());
      DeviceArray<int32_t> d_tables(problem.tables), d_context(problem.context_lens);
      DeviceArray<char> workspace(
          kernels::PagedDecodeWorkspaceBytes(num_seqs, s.heads, s.head_dim, splits));
      d_out.Poison();
      kernels::PagedDecodeParams p;
      p.q = d_q.get();
      p.out = d_out.get();
      p.k_cache = d_k.get();
      p.v_cache = d_v.get();
      p.block_tables = d_tables.get();
      p.max_blocks_per_seq = problem.width;
      p.context_lens = d_context.get();
      p.num_seqs = num_seqs;
      p.num_heads = s.heads;
      p.num_kv_heads = s.kv_heads;
      p.head_dim = s.head_dim;
      p.block_size = s.block_size;
      p.sliding_window = s.window;
      p.scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
      p.num_splits = splits;
      p.workspace = workspace.get();
      // The default tiling, then every tuning variant on the same problem.
      for (auto [keys, warps] : {std::pair{0, 0}, {32, 4}, {16, 4}, {16, 8}, {32, 2}}) {
        p.tile_keys = keys;
        p.warps = warps;
        d_out.Poison();
        GPU_CHECK(kernels::LaunchPagedDecode(p, nullptr));
        GPU_CHECK(cudaDeviceSynchronize());
        EXPECT_LT(RelativeError(d_out.Download(), problem.ref), 1e-2)
            << Describe(s) << " splits " << splits << " tile " << keys << "x" << warps;
      }
    }
  }
}

TEST(PagedAttentionKernels, RejectUnsupportedHeadDim) {
  kernels::PagedPrefillParams prefill;
  prefill.num_work = 1;
  prefill.num_heads = prefill.num_kv_heads = 1;
  prefill.head_dim = 96;
  EXPECT_EQ(kernels::LaunchPagedPrefill(prefill, nullptr), cudaErrorInvalidValue);
  kernels::PagedDecodeParams decode;
  decode.num_seqs = 1;
  decode.num_heads = decode.num_kv_heads = 1;
  decode.head_dim = 256;
  EXPECT_EQ(kernels::LaunchPagedDecode(decode, nullptr), cudaErrorInvalidValue);
  EXPECT_FALSE(kernels::PagedAttentionSupportsHeadDim(96));
  EXPECT_TRUE(kernels::PagedAttentionSupportsHeadDim(128));
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

}  // namespace
}  // namespace stride::testing::gpu
