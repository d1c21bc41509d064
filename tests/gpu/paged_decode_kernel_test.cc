// Paged decode attention against cpu::PagedAttention: GQA groups, head dims, block sizes, sliding
// windows, split-KV with every tile variant and the persistent variant (splits merged in the
// same launch through the split counters, and by the separate merge kernel), padding rows, and
// batches with more (sequence, KV head, split) items than the persistent grid has CTAs.
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

// One kernel configuration: the default kernel's tiling (0, 0: the default), or the persistent
// variant with its stages (0: default) and grid size (0: as many CTAs as fit).
struct Variant {
  int tile_keys = 0, warps = 0;
  bool persistent = false;
  int stages = 0, ctas = 0;

  std::string Name() const {
    if (persistent) {
      return "persistent stages " + std::to_string(stages) + " ctas " + std::to_string(ctas);
    }
    return "tile " + std::to_string(tile_keys) + "x" + std::to_string(warps);
  }
};

const std::vector<Variant> kTileVariants = {{0, 0}, {32, 4}, {16, 4}, {16, 8}, {32, 2}};
// Fitted grids, and small grids where every CTA loops over many items.
const std::vector<Variant> kPersistentVariants = {
    {0, 0, true, 0, 0}, {0, 0, true, 3, 0}, {0, 0, true, 2, 1},
    {0, 0, true, 2, 7}, {0, 0, true, 3, 5},
};

// Runs every variant on `s` with `splits` splits: the splits merged by a second kernel, then in
// the same launch. Fused launches run once, then twice without a sync: the second merges only if
// the first left its counters zeroed.
void CheckVariants(const AttentionCase& s, int splits, const std::vector<Variant>& variants,
                   base::ThreadPool& pool) {
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
  for (const Variant& v : variants) {
    for (auto [fused, launches] : {std::pair{false, 1}, {true, 1}, {true, 2}}) {
      p.tile_keys = v.tile_keys;
      p.warps = v.warps;
      p.persistent = v.persistent;
      p.persistent_stages = v.stages;
      p.persistent_ctas = v.ctas;
      p.split_counters = fused ? counters.get() : nullptr;
      for (int i = 0; i < launches; ++i) {
        d_out.Poison();  // stream-ordered: the last launch must write every output
        GPU_CHECK(kernels::LaunchPagedDecode(p, nullptr));
      }
      GPU_CHECK(cudaDeviceSynchronize());
      EXPECT_LT(RelativeError(d_out.Download(), problem.ref), 1e-2)
          << Describe(s) << " seqs " << num_seqs << " splits " << splits << " " << v.Name()
          << (fused ? " fused x" + std::to_string(launches) : " merge kernel");
      EXPECT_EQ(counters.Download(), zeros)
          << Describe(s) << " splits " << splits << " " << v.Name();
    }
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
  std::vector<Variant> variants = kTileVariants;
  variants.insert(variants.end(), kPersistentVariants.begin(), kPersistentVariants.end());
  for (const AttentionCase& s : setups) {
    for (int splits : {1, 3, 8, 32}) CheckVariants(s, splits, variants, pool);
  }
}

// Batches of decode rows with random lengths (padding rows, 1-key rows and rows shorter than a
// tile among them) whose items outnumber the persistent grid's CTAs (396 on an H200), so every
// CTA runs several items and its copies cross item boundaries; the default kernel as a control.
TEST(PagedDecodeKernel, PersistentManyItems) {
  base::ThreadPool pool(0);
  std::mt19937 rng(FreshSeed());
  auto batch = [&](int num_seqs, int max_len) {
    std::uniform_int_distribution<int> len(0, max_len);
    std::vector<Seq> seqs;
    for (int i = 0; i < num_seqs; ++i) {
      const int pick = i % 8;
      seqs.push_back({1, pick == 0 ? 0 : pick == 1 ? 1 + i % 15 : len(rng)});
    }
    return seqs;
  };
  const std::vector<AttentionCase> setups = {
      {32, 8, 128, 16, 0, batch(72, 2500)},   // 576 items at 1 split
      {64, 4, 64, 8, 300, batch(120, 1200)},  // group 16, window
      {8, 8, 32, 16, 0, batch(64, 900)},      // group 1
      {28, 4, 16, 8, 100, batch(100, 600)},   // group 7, d16
  };
  std::vector<Variant> variants = kPersistentVariants;
  variants.push_back({});
  for (const AttentionCase& s : setups) {
    for (int splits : {1, 2, 5}) CheckVariants(s, splits, variants, pool);
  }
}

TEST(PagedDecodeKernel, PersistentRejectsBadConfigurations) {
  kernels::PagedDecodeParams p;
  p.num_seqs = 1;
  p.num_heads = 8;
  p.num_kv_heads = 8;
  p.head_dim = 128;
  p.persistent = true;
  p.persistent_stages = 4;
  EXPECT_EQ(kernels::LaunchPagedDecode(p, nullptr), cudaErrorInvalidValue);
  p.persistent_stages = 0;
  p.persistent_ctas = -1;
  EXPECT_EQ(kernels::LaunchPagedDecode(p, nullptr), cudaErrorInvalidValue);
  p.persistent_ctas = 0;
  p.head_dim = 96;
  EXPECT_EQ(kernels::LaunchPagedDecode(p, nullptr), cudaErrorInvalidValue);
}

}  // namespace
}  // namespace stride::testing::gpu
