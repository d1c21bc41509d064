// Paged decode attention against cpu::PagedAttention: GQA groups, head dims, block sizes, sliding
// windows, split-KV with every tile variant (splits merged in the same launch through the split
// counters, and by the separate merge kernel), padding rows, and large batches of random lengths;
// with a bf16 KV cache and with an fp8 e4m3 one (checked against the reference fed the values the
// fp8 elements stand for, e4m3 * scale), and the launcher's rejections.
#include <algorithm>
#include <cmath>
#include <limits>
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

// One kernel configuration: keys per warp tile and warps per CTA (0, 0: the default); with
// `tma` the launch is told the pool's size, so bf16 caches at d64 / d128 with blocks of at least
// 16 and no window take the TMA kernel (paged_decode_tma.cu; tma_stages tiles in flight a warp).
// heads_fastest orders the grid (KV head, sequence, split).
struct Variant {
  int tile_keys = 0, warps = 0;
  bool tma = false;
  int tma_stages = 0;
  bool heads_fastest = false;

  std::string Name() const {
    return "tile " + std::to_string(tile_keys) + "x" + std::to_string(warps) +
           (tma ? " tma stages " + std::to_string(tma_stages) : "") +
           (heads_fastest ? " heads fastest" : "");
  }
};

const std::vector<Variant> kTileVariants = {
    {0, 0},          {32, 4}, {16, 4}, {16, 8}, {32, 2}, {0, 0, false, 0, true}, {0, 0, true},
    {16, 8, true},   {16, 4, true, 3}, {0, 0, true, 0, true}};
// fp8 runs the default tiling and the 16x8 one (the default of grids of at most one CTA per SM),
// and the TMA kernel (d128) with its 4 and 3 stages.
const std::vector<Variant> kFp8TileVariants = {
    {0, 0}, {16, 4}, {16, 8}, {0, 0, true, 0, true}, {16, 4, true, 3}};

// The KV cache of a launch: bf16, or fp8 e4m3 with per-tensor scales (element e means e * scale).
struct CacheFormat {
  kernels::DType dtype = kernels::DType::kBF16;
  float k_scale = 1.0f, v_scale = 1.0f;

  std::string Name() const {
    if (dtype == kernels::DType::kBF16) return "bf16";
    return "fp8 k_scale " + std::to_string(k_scale) + " v_scale " + std::to_string(v_scale);
  }
};

const CacheFormat kFp8Scaled = {kernels::DType::kFP8E4M3, 0.05f, 3.0f};
const CacheFormat kFp8Unscaled = {kernels::DType::kFP8E4M3, 1.0f, 1.0f};

template <typename T>
std::vector<char> Bytes(const std::vector<T>& x) {
  const char* begin = reinterpret_cast<const char*>(x.data());
  return std::vector<char>(begin, begin + x.size() * sizeof(T));
}

// Runs every variant on one random problem of `s`, with each split count in `splits`: the splits
// merged by a second kernel, then in the same launch. Fused launches run once, then twice without
// a sync: the second merges only if the first left its counters zeroed. The problem and its CPU
// reference are made once for all split counts (the reference does not depend on them). An fp8
// cache holds the problem's K / V divided by the scales, and the reference is computed from the
// values its elements stand for.
void CheckVariants(const AttentionCase& s, const std::vector<int>& splits_list,
                   const std::vector<Variant>& variants, base::ThreadPool& pool,
                   const CacheFormat& format = {}) {
  std::mt19937 rng(FreshSeed());
  const bool fp8 = format.dtype == kernels::DType::kFP8E4M3;
  ProblemOptions options;
  options.reference = !fp8;  // fp8's reference is over the values its elements stand for
  Problem problem(s, rng, pool, options);
  const int num_seqs = static_cast<int>(s.seqs.size());
  std::vector<float> ref = problem.ref;
  std::vector<char> k_bytes, v_bytes;
  if (fp8) {
    const std::vector<__nv_fp8_e4m3> k = ToFp8(problem.k_cache, format.k_scale);
    const std::vector<__nv_fp8_e4m3> v = ToFp8(problem.v_cache, format.v_scale);
    ref =
        problem.ReferenceOver(s, Fp8Values(k, format.k_scale), Fp8Values(v, format.v_scale), pool);
    k_bytes = Bytes(k);
    v_bytes = Bytes(v);
  } else {
    k_bytes = Bytes(ToBf16(problem.k_cache));
    v_bytes = Bytes(ToBf16(problem.v_cache));
  }
  DeviceArray<__nv_bfloat16> d_q(ToBf16(problem.q)), d_out(problem.q.size());
  DeviceArray<char> d_k(k_bytes), d_v(v_bytes);
  DeviceArray<int32_t> d_tables(problem.tables), d_context(problem.context_lens);
  const std::vector<int32_t> zeros(num_seqs * s.kv_heads, 0);
  DeviceArray<int32_t> counters(zeros);
  for (int splits : splits_list) {
    DeviceArray<char> workspace(
        kernels::PagedDecodeWorkspaceBytes(num_seqs, s.heads, s.head_dim, splits));
    kernels::PagedDecodeParams p;
    p.q = d_q.get();
    p.out = d_out.get();
    p.k_cache = d_k.get();
    p.v_cache = d_v.get();
    p.kv_dtype = format.dtype;
    p.k_scale = format.k_scale;
    p.v_scale = format.v_scale;
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
        p.num_cache_blocks = v.tma ? problem.num_blocks : 0;
        p.tma_stages = v.tma_stages;
        p.heads_fastest = v.heads_fastest;
        p.fp8_tma = v.tma;
        p.split_counters = fused ? counters.get() : nullptr;
        for (int i = 0; i < launches; ++i) {
          d_out.Poison();  // stream-ordered: the last launch must write every output
          GPU_CHECK(kernels::LaunchPagedDecode(p, nullptr));
        }
        GPU_CHECK(cudaDeviceSynchronize());
        EXPECT_LT(RelativeError(d_out.Download(), ref), 1e-2)
            << Describe(s) << " " << format.Name() << " seqs " << num_seqs << " splits " << splits
            << " " << v.Name() << (fused ? " fused x" + std::to_string(launches) : " merge kernel");
        EXPECT_EQ(counters.Download(), zeros)
            << Describe(s) << " " << format.Name() << " splits " << splits << " " << v.Name();
      }
    }
  }
}

// A few sequences each (padding rows, 1-key rows, rows past a split's tile count): GQA groups
// 4 / 2 / 8 / 16, head dims 128 / 16 / 64 / 32, block sizes 8 to 64, sliding windows. Blocks
// larger than a tile put several tiles in one block at nonzero offsets (the one-block fast path);
// blocks of 8, 32-key tiles over blocks of 16 and window starts take the per-key path.
std::vector<AttentionCase> SmallSetups() {
  return {
      {32, 8, 128, 16, 0, {{1, 1}, {1, 17}, {1, 1000}, {1, 4100}, {1, 0}}},
      {4, 2, 16, 16, 32, {{1, 5}, {1, 100}, {1, 300}}},
      {8, 1, 64, 8, 0, {{1, 333}, {1, 2}}},
      {16, 1, 32, 16, 0, {{1, 64}, {1, 1500}}},
      {32, 8, 128, 16, 500, {{1, 3000}, {1, 499}}},
      {32, 8, 128, 32, 0, {{1, 1}, {1, 45}, {1, 1000}, {1, 4100}}},
      {8, 2, 64, 64, 0, {{1, 700}, {1, 63}, {1, 129}}},
      {32, 8, 128, 32, 500, {{1, 3000}, {1, 520}}},
  };
}

// Batches of decode rows with random lengths (padding rows, 1-key rows and rows shorter than a
// tile among them), more CTAs than fit on the GPU at once.
std::vector<AttentionCase> RandomLengthSetups(std::mt19937& rng) {
  auto batch = [&](int num_seqs, int max_len) {
    std::uniform_int_distribution<int> len(0, max_len);
    std::vector<Seq> seqs;
    for (int i = 0; i < num_seqs; ++i) {
      const int pick = i % 8;
      seqs.push_back({1, pick == 0 ? 0 : pick == 1 ? 1 + i % 15 : len(rng)});
    }
    return seqs;
  };
  return {
      {32, 8, 128, 16, 0, batch(72, 2500)},   // 576 items at 1 split
      {64, 4, 64, 8, 300, batch(120, 1200)},  // group 16, window
      {8, 8, 32, 16, 0, batch(64, 900)},      // group 1
      {28, 4, 16, 8, 100, batch(100, 600)},   // group 7, d16
      {32, 8, 128, 64, 0, batch(48, 3000)},   // two to four tiles per block
  };
}

TEST(PagedDecodeKernel, MatchesCpuPagedAttention) {
  base::ThreadPool pool(0);
  for (const AttentionCase& s : SmallSetups()) {
    CheckVariants(s, {1, 3, 8, 32}, kTileVariants, pool);
  }
}

TEST(PagedDecodeKernel, RandomLengthBatches) {
  base::ThreadPool pool(0);
  std::mt19937 rng(FreshSeed());
  const std::vector<Variant> variants = {{0, 0}, {32, 4}, {0, 0, true, 0, true}};
  for (const AttentionCase& s : RandomLengthSetups(rng)) {
    CheckVariants(s, {1, 2, 5}, variants, pool);
  }
}

// The TMA kernel across GQA groups (1, 8 and 16 query heads per KV head: one row half or both)
// at d64 and d128, with blocks of 16 and 32, in batches large enough to take it at every split
// count (padding rows, 1-key rows and rows shorter than a tile among them).
TEST(PagedDecodeKernel, TmaKernelAcrossGroups) {
  base::ThreadPool pool(0);
  std::mt19937 rng(FreshSeed());
  std::uniform_int_distribution<int> len(0, 1500);
  auto batch = [&](int num_seqs) {
    std::vector<Seq> seqs;
    for (int i = 0; i < num_seqs; ++i) {
      const int pick = i % 8;
      seqs.push_back({1, pick == 0 ? 0 : pick == 1 ? 1 + i % 15 : len(rng)});
    }
    return seqs;
  };
  const std::vector<Variant> variants = {{0, 0, true}, {0, 0, true, 0, true}};
  for (const AttentionCase& s : std::vector<AttentionCase>{
           {8, 8, 128, 16, 0, batch(64)},    // group 1
           {64, 8, 128, 16, 0, batch(64)},   // group 8
           {64, 4, 128, 32, 0, batch(112)},  // group 16: both row halves
           {32, 2, 64, 16, 0, batch(208)},   // group 16, d64
           {16, 8, 64, 32, 0, batch(64)},    // group 2, d64
       }) {
    kernels::PagedDecodeParams p;
    p.num_seqs = static_cast<int>(s.seqs.size());
    p.num_kv_heads = s.kv_heads;
    p.num_splits = 1;
    p.head_dim = s.head_dim;
    p.block_size = s.block_size;
    p.num_cache_blocks = 1;
    ASSERT_TRUE(kernels::PagedDecodeUsesTma(p)) << Describe(s);
    CheckVariants(s, {1, 3}, variants, pool);
  }
}

// The TMA variants above test something only if the launcher takes the TMA kernel for them:
// it does for bf16 at d64 / d128 and (unless turned off) fp8 at d128, with blocks of 16 or more
// and no window, in grids of at least one CTA per SM (132 on an H200), once told the pool's size,
// and for nothing else. (So SmallSetups of 8 KV heads reach it at 8 and 32 splits, and
// RandomLengthBatches at every split count in most setups.)
TEST(PagedDecodeKernel, TmaKernelTakesWhatItSupports) {
  kernels::PagedDecodeParams p;
  p.num_seqs = 5;
  p.num_kv_heads = 8;
  p.num_splits = 32;  // 1280 CTAs
  p.kv_dtype = kernels::DType::kBF16;
  p.head_dim = 128;
  p.block_size = 16;
  p.num_cache_blocks = 100;
  EXPECT_TRUE(kernels::PagedDecodeUsesTma(p));
  p.head_dim = 64;
  EXPECT_TRUE(kernels::PagedDecodeUsesTma(p));
  p.block_size = 64;
  EXPECT_TRUE(kernels::PagedDecodeUsesTma(p));
  auto without = [&](auto change) {
    kernels::PagedDecodeParams q = p;
    change(q);
    return kernels::PagedDecodeUsesTma(q);
  };
  EXPECT_FALSE(without([](auto& q) { q.num_cache_blocks = 0; }));
  EXPECT_FALSE(without([](auto& q) { q.use_tma = false; }));
  EXPECT_FALSE(without([](auto& q) { q.kv_dtype = kernels::DType::kFP8E4M3; }));  // at d64
  EXPECT_TRUE(without([](auto& q) {  // at d128, by default
    q.kv_dtype = kernels::DType::kFP8E4M3;
    q.head_dim = 128;
  }));
  EXPECT_FALSE(without([](auto& q) {  // unless turned off
    q.kv_dtype = kernels::DType::kFP8E4M3;
    q.head_dim = 128;
    q.fp8_tma = false;
  }));
  EXPECT_FALSE(without([](auto& q) { q.head_dim = 32; }));
  EXPECT_FALSE(without([](auto& q) { q.block_size = 8; }));
  EXPECT_FALSE(without([](auto& q) { q.sliding_window = 100; }));
  EXPECT_FALSE(without([](auto& q) { q.tile_keys = 32; }));
  EXPECT_FALSE(without([](auto& q) { q.num_splits = 3; }));  // 120 CTAs: fewer than SMs
  EXPECT_TRUE(without([](auto& q) { q.num_splits = 4; }));   // 160
  EXPECT_FALSE(without([](auto& q) {                          // unless told otherwise
    q.num_splits = 8;
    q.tma_min_ctas = 400;
  }));
  EXPECT_TRUE(without([](auto& q) {
    q.num_splits = 3;
    q.tma_min_ctas = 100;
  }));
}

// fp8 e4m3 caches, scaled (elements up to 20 for K, 1/3 for V: the scales must be applied, or the
// output is off by far more than the tolerance) and unscaled.
TEST(PagedDecodeKernel, Fp8MatchesCpuPagedAttention) {
  base::ThreadPool pool(0);
  for (const CacheFormat& format : {kFp8Scaled, kFp8Unscaled}) {
    for (const AttentionCase& s : SmallSetups()) {
      CheckVariants(s, {1, 3, 8, 32}, kFp8TileVariants, pool, format);
    }
  }
}

TEST(PagedDecodeKernel, Fp8RandomLengthBatches) {
  base::ThreadPool pool(0);
  std::mt19937 rng(FreshSeed());
  const std::vector<Variant> variants = {{0, 0}, {16, 8}, {0, 0, true, 0, true}};
  for (const AttentionCase& s : RandomLengthSetups(rng)) {
    CheckVariants(s, {1, 2, 5}, variants, pool, kFp8Scaled);
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

// The KV-cache type, the scales (fp8 and bf16 alike) and the fp8 tilings, each spoiled alone in
// a launch that is otherwise valid and runs (real buffers, one sequence of 5 keys), so that a
// wrongly accepted configuration fails the expectation rather than reading null pointers.
TEST(PagedDecodeKernel, RejectsBadCacheConfigurations) {
  constexpr int kHeads = 8, kKvHeads = 2, kDim = 128, kBlock = 16;
  std::mt19937 rng(FreshSeed());
  DeviceArray<__nv_bfloat16> q(ToBf16(RandomBf16Values(kHeads * kDim, 1.0f, rng))),
      out(kHeads * kDim);
  const std::vector<float> kv = RandomBf16Values(2 * kBlock * kKvHeads * kDim, 1.0f, rng);
  DeviceArray<__nv_fp8_e4m3> k8(ToFp8(kv, 1.0f)), v8(ToFp8(kv, 1.0f));
  DeviceArray<__nv_bfloat16> k16(ToBf16(kv)), v16(ToBf16(kv));
  DeviceArray<int32_t> tables(std::vector<int32_t>{1}), lens(std::vector<int32_t>{5});
  kernels::PagedDecodeParams fp8;
  fp8.q = q.get();
  fp8.out = out.get();
  fp8.k_cache = k8.get();
  fp8.v_cache = v8.get();
  fp8.kv_dtype = kernels::DType::kFP8E4M3;
  fp8.k_scale = 0.5f;
  fp8.v_scale = 2.0f;
  fp8.block_tables = tables.get();
  fp8.max_blocks_per_seq = 1;
  fp8.context_lens = lens.get();
  fp8.num_seqs = 1;
  fp8.num_heads = kHeads;
  fp8.num_kv_heads = kKvHeads;
  fp8.head_dim = kDim;
  fp8.block_size = kBlock;
  fp8.scale = 1.0f / std::sqrt(static_cast<float>(kDim));
  kernels::PagedDecodeParams bf16 = fp8;
  bf16.k_cache = k16.get();
  bf16.v_cache = v16.get();
  bf16.kv_dtype = kernels::DType::kBF16;
  bf16.k_scale = bf16.v_scale = 1.0f;
  ASSERT_EQ(kernels::LaunchPagedDecode(bf16, nullptr), cudaSuccess);
  ASSERT_EQ(kernels::LaunchPagedDecode(fp8, nullptr), cudaSuccess);
  for (auto [keys, warps] : {std::pair{16, 4}, {16, 8}}) {
    kernels::PagedDecodeParams p = fp8;
    p.tile_keys = keys;
    p.warps = warps;
    EXPECT_EQ(kernels::LaunchPagedDecode(p, nullptr), cudaSuccess) << keys << "x" << warps;
  }
  GPU_CHECK(cudaDeviceSynchronize());

  kernels::PagedDecodeParams p = fp8;
  p.kv_dtype = kernels::DType::kF32;
  EXPECT_EQ(kernels::LaunchPagedDecode(p, nullptr), cudaErrorInvalidValue);
  const float inf = std::numeric_limits<float>::infinity();
  for (float bad : {0.0f, -1.0f, inf, -inf, std::numeric_limits<float>::quiet_NaN()}) {
    for (const kernels::PagedDecodeParams& valid : {fp8, bf16}) {
      const std::string name = valid.kv_dtype == kernels::DType::kBF16 ? "bf16 " : "fp8 ";
      p = valid;
      p.k_scale = bad;
      EXPECT_EQ(kernels::LaunchPagedDecode(p, nullptr), cudaErrorInvalidValue)
          << name << "k_scale " << bad;
      p = valid;
      p.v_scale = bad;
      EXPECT_EQ(kernels::LaunchPagedDecode(p, nullptr), cudaErrorInvalidValue)
          << name << "v_scale " << bad;
    }
  }
  for (int block_size : {0, -16, 12, 24}) {  // keys map to blocks by shift and mask
    for (const kernels::PagedDecodeParams& valid : {fp8, bf16}) {
      p = valid;
      p.block_size = block_size;
      EXPECT_EQ(kernels::LaunchPagedDecode(p, nullptr), cudaErrorInvalidValue)
          << "block_size " << block_size;
    }
  }
  for (auto [keys, warps] : {std::pair{32, 4}, {32, 2}, {16, 2}, {8, 4}}) {
    p = fp8;
    p.tile_keys = keys;
    p.warps = warps;
    EXPECT_EQ(kernels::LaunchPagedDecode(p, nullptr), cudaErrorInvalidValue)
        << keys << "x" << warps;
  }
  GPU_CHECK(cudaDeviceSynchronize());
}

}  // namespace
}  // namespace stride::testing::gpu
