// Paged decode attention against cpu::PagedAttention: GQA groups, head dims, block sizes, sliding
// windows, split-KV with every tile variant (splits merged in the same launch through the split
// counters, and by the separate merge kernel), padding rows.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "base/thread_pool.h"
#include "gtest/gtest.h"
#include "kernels/attention/paged_attention.h"
#include "tests/gpu/gpu_test_util.h"
#include "tests/gpu/paged_attention_problem.h"

namespace stride::testing::gpu {
namespace {

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
    for (int splits : {1, 3, 8, 32}) {
      std::mt19937 rng(FreshSeed());
      Problem problem(s, rng, pool);
      const int num_seqs = static_cast<int>(s.seqs.size());
      DeviceArray<__nv_bfloat16> d_q(ToBf16(problem.q)), d_k(ToBf16(problem.k_cache)),
          d_v(ToBf16(problem.v_cache)), d_out(problem.q.size());
      DeviceArray<int32_t> d_tables(problem.tables), d_context(problem.context_lens);
      DeviceArray<char> workspace(
          kernels::PagedDecodeWorkspaceBytes(num_seqs, s.heads, s.head_dim, splits));
      const std::vector<int32_t> zeros(num_seqs * s.kv_heads, 0);
      DeviceArray<int32_t> counters(zeros);
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
      // The default tiling, then every tuning variant on the same problem; the splits merged
      // by a second kernel, then in the same launch. Fused launches run once, then twice
      // without a sync: the second merges only if the first left its counters zeroed.
      for (auto [keys, warps] : {std::pair{0, 0}, {32, 4}, {16, 4}, {16, 8}, {32, 2}}) {
        for (auto [fused, launches] : {std::pair{false, 1}, {true, 1}, {true, 2}}) {
          p.tile_keys = keys;
          p.warps = warps;
          p.split_counters = fused ? counters.get() : nullptr;
          for (int i = 0; i < launches; ++i) {
            d_out.Poison();  // stream-ordered: the last launch must write every output
            GPU_CHECK(kernels::LaunchPagedDecode(p, nullptr));
          }
          GPU_CHECK(cudaDeviceSynchronize());
          EXPECT_LT(RelativeError(d_out.Download(), problem.ref), 1e-2)
              << Describe(s) << " splits " << splits << " tile " << keys << "x" << warps
              << (fused ? " fused x" + std::to_string(launches) : " merge kernel");
          EXPECT_EQ(counters.Download(), zeros) << Describe(s) << " splits " << splits;
        }
      }
    }
  }
}

}  // namespace
}  // namespace stride::testing::gpu
