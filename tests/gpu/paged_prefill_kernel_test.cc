// Paged prefill attention against cpu::PagedAttention: GQA groups 1 to 16 (8 to 128 tokens per
// 128-row tile), head_dim 16/32/64/128, block sizes 4, 8 and 16, chunked prefill and prefix hits
// (context longer than the query chunk), sliding windows; and the launchers' rejection of
// unsupported head dims.
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "base/thread_pool.h"
#include "gtest/gtest.h"
#include "kernels/attention/paged_attention.h"
#include "tests/gpu/gpu_test_util.h"
#include "tests/gpu/paged_attention_problem.h"

namespace stride::testing::gpu {
namespace {

TEST(PagedPrefillKernel, MatchesCpuPagedAttention) {
  base::ThreadPool pool(0);
  const std::vector<AttentionCase> setups = {
      {32, 8, 128, 16, 0, {{200, 200}, {37, 1000}, {1, 77}, {64, 64}}},
      {4, 2, 16, 16, 32, {{100, 100}, {17, 300}, {3, 40}}},
      {4, 2, 32, 8, 0, {{31, 31}, {5, 400}}},
      {8, 8, 64, 16, 0, {{130, 130}, {70, 2100}}},
      {28, 4, 128, 16, 0, {{50, 90}, {9, 9}}},
      {32, 8, 128, 16, 100, {{300, 300}, {64, 700}}},
      // 128-row tiles: 8 tokens per CTA (group 16, block size 8), 128 tokens (group 1: each warp
      // has its own diagonal), 18 tokens + 2 padding rows (group 7), windows spanning tiles.
      {16, 1, 128, 8, 0, {{300, 300}, {45, 500}}},
      {4, 4, 128, 16, 0, {{257, 257}, {129, 1000}, {2, 2}}},
      {32, 8, 128, 16, 200, {{700, 900}, {5, 5}}},
      {28, 4, 64, 8, 50, {{150, 400}, {40, 40}}},
      {8, 2, 32, 16, 0, {{1000, 1000}}},
      // Block size 4: a thread's 8 keys of a tile span two blocks (per-key block lookups).
      {8, 2, 128, 4, 40, {{100, 300}, {70, 70}}},
  };
  for (const AttentionCase& s : setups) {
    std::mt19937 rng(FreshSeed());
    Problem problem(s, rng, pool);
    std::vector<int> query_lens, context_lens;
    for (const Seq& q : s.seqs) {
      query_lens.push_back(q.query_len);
      context_lens.push_back(q.context_len);
    }
    const std::vector<kernels::PrefillWorkItem> work =
        kernels::PlanPagedPrefill(query_lens, context_lens, s.heads, s.kv_heads, s.window);

    DeviceArray<__nv_bfloat16> d_q(ToBf16(problem.q)), d_k(ToBf16(problem.k_cache)),
        d_v(ToBf16(problem.v_cache)), d_out(problem.q.size());
    DeviceArray<int32_t> d_tables(problem.tables), d_start(problem.query_start),
        d_context(problem.context_lens);
    DeviceArray<kernels::PrefillWorkItem> d_work(work);
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
    d_out.Poison();
    GPU_CHECK(kernels::LaunchPagedPrefill(p, nullptr));
    GPU_CHECK(cudaDeviceSynchronize());
    EXPECT_LT(RelativeError(d_out.Download(), problem.ref), 1e-2) << Describe(s);
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
