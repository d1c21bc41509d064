// Paged decode attention against cpu::PagedAttention: GQA groups, head dims, block sizes, sliding
// windows, split-KV with every tile variant (splits merged in the same launch through the split
// counters, and by the separate merge kernel), padding rows, and large batches of random lengths.
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

// One kernel configuration: keys per warp tile and warps per CTA (0, 0: the default).
struct Variant {
  int tile_keys = 0, warps = 0;

  std::string Name() const {
    return "tile " + std::to_string(tile_keys) + "x" + std::to_string(warps);
  }
};

const std::vector<Variant> kTileVariants = {{0, 0}, {32, 4}, {16, 4}, {16, 8}, {32, 2}};

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
  for (const AttentionCase& s : setups) {
    for (int splits : {1, 3, 8, 32}) CheckVariants(s, splits, kTileVariants, pool);
  }
}

// Batches of decode rows with random lengths (padding rows, 1-key rows and rows shorter than a
// tile among them), more CTAs than fit on the GPU at once.
TEST(PagedDecodeKernel, RandomLengthBatches) {
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
  const std::vector<Variant> variants = {{0, 0}, {32, 4}};
  for (const AttentionCase& s : setups) {
    for (int splits : {1, 2, 5}) CheckVariants(s, splits, variants, pool);
  }
}

TEST(PagedDecodeKernel, RejectsBadConfigurations) {
  kernels::PagedDecodeParams p;
  p.num_seqs = 1;
  p.num_heads = 8;
  p.num_kv_heads = 8;
  p.head_dim = 128;
  p.num_splits = 0;
  EXPECT_EQ(kernels::LaunchPagedDecode(p, nullptr), cudaErrorInvalidValue);
  p.num_splits = 1;
  p.num_heads = 12;  // not a multiple of the KV heads
  EXPECT_EQ(kernels::LaunchPagedDecode(p, nullptr), cudaErrorInvalidValue);
  p.num_heads = 8;
  p.head_dim = 96;
  EXPECT_EQ(kernels::LaunchPagedDecode(p, nullptr), cudaErrorInvalidValue);
}

}  // namespace
}  // namespace stride::testing::gpu
