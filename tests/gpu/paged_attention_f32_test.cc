// Exact fp32 paged attention (kernels/attention/paged_attention_f32.h) against cpu::PagedAttention
// on full-precision random inputs: decode rows and prefill chunks with earlier context in one
// launch, head_dim 16/32/64/128 x GQA groups 1 and 4 x sliding window on and off, plus odd
// shapes (head_dim 6, 80, 256, block sizes 1 and 4). Cache memory a correct kernel never reads
// (blocks before the window or past the context, slots past the context) is NaN. Also: rows
// outside every sequence stay untouched, rows without keys get zeros, and bad parameters are
// rejected.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "base/thread_pool.h"
#include "gtest/gtest.h"
#include "kernels/attention/paged_attention_f32.h"
#include "tests/gpu/gpu_test_util.h"
#include "tests/gpu/paged_attention_problem.h"

namespace stride::testing::gpu {
namespace {

// fp32 softmax-weighted sums of values in [-1, 1): the kernel and the CPU differ only in
// summation order and the online softmax's rescaling.
constexpr double kMaxRelativeError = 1e-5;

float Scale(int head_dim) { return 1.0f / std::sqrt(static_cast<float>(head_dim)); }

// Device copies of a problem and the kernel's parameters over them; out starts as NaN.
struct DeviceProblem {
  DeviceArray<float> q, k_cache, v_cache, out;
  DeviceArray<int32_t> tables, query_start, context_lens;
  kernels::PagedAttentionF32Params params;

  DeviceProblem(const AttentionCase& s, const Problem& problem)
      : q(problem.q),
        k_cache(problem.k_cache),
        v_cache(problem.v_cache),
        out(problem.q.size()),
        tables(problem.tables),
        query_start(problem.query_start),
        context_lens(problem.context_lens) {
    out.Poison();
    params.q = q.get();
    params.out = out.get();
    params.k_cache = k_cache.get();
    params.v_cache = v_cache.get();
    params.block_tables = tables.get();
    params.max_blocks_per_seq = problem.width;
    params.query_start = query_start.get();
    params.context_lens = context_lens.get();
    params.num_seqs = static_cast<int>(s.seqs.size());
    params.num_heads = s.heads;
    params.num_kv_heads = s.kv_heads;
    params.head_dim = s.head_dim;
    params.block_size = s.block_size;
    params.sliding_window = s.window;
    params.scale = Scale(s.head_dim);
  }
};

int CountNans(const std::vector<float>& x, size_t begin, size_t end) {
  int nans = 0;
  for (size_t i = begin; i < end; ++i) nans += std::isnan(x[i]) ? 1 : 0;
  return nans;
}

void ExpectMatchesCpu(const AttentionCase& s, float q_range, base::ThreadPool& pool) {
  std::mt19937 rng(FreshSeed());
  const Problem problem(s, rng, pool, {true, q_range, 0});
  DeviceProblem device(s, problem);
  GPU_CHECK(kernels::LaunchPagedAttentionF32(device.params, nullptr));
  GPU_CHECK(cudaDeviceSynchronize());
  const std::vector<float> out = device.out.Download();
  const std::string what = Describe(s) + " q range " + std::to_string(q_range);
  EXPECT_EQ(CountNans(out, 0, out.size()), 0) << what;
  EXPECT_LT(RelativeError(out, problem.ref), kMaxRelativeError) << what;
}

// Decode rows (one query, short and long contexts), whole prompts, prefill chunks after earlier
// context (longer than the window when there is one), a sequence with no queries this step.
const std::vector<Seq> kMixedBatch = {{1, 1},    {1, 300}, {37, 37}, {45, 260}, {0, 40},
                                      {1, 1000}, {3, 70},  {16, 16}, {1, 17}};

TEST(PagedAttentionF32Kernel, MatchesCpuPagedAttention) {
  base::ThreadPool pool(0);
  for (int head_dim : {16, 32, 64, 128}) {
    for (int group : {1, 4}) {
      for (int window : {0, 64}) {
        const AttentionCase s{2 * group, 2, head_dim, 16, window, kMixedBatch};
        ExpectMatchesCpu(s, 4.0f, pool);
      }
    }
  }
}

TEST(PagedAttentionF32Kernel, MatchesCpuPagedAttentionOnOddShapes) {
  base::ThreadPool pool(0);
  // head_dim 6 and 80: lanes and pair slots left idle; 256: four pairs per lane. Block sizes 1
  // and 4, a window of 1 (each query sees only itself), a window longer than the context,
  // 28 query heads over 4 KV heads (group 7), and peaky scores (q range 8) that move the running
  // max often.
  const std::vector<std::pair<AttentionCase, float>> cases = {
      {{4, 2, 6, 16, 0, {{1, 5}, {20, 40}}}, 1.0f},
      {{8, 2, 80, 4, 0, {{1, 123}, {30, 90}, {1, 2}}}, 4.0f},
      {{8, 2, 256, 16, 0, {{1, 90}, {33, 120}, {1, 600}}}, 4.0f},
      {{8, 8, 256, 8, 50, {{1, 500}, {70, 200}}}, 4.0f},
      {{4, 1, 64, 1, 0, {{1, 40}, {9, 30}}}, 4.0f},
      {{4, 1, 64, 4, 7, {{1, 40}, {9, 30}, {12, 12}}}, 4.0f},
      {{4, 4, 32, 16, 1, {{1, 40}, {9, 30}}}, 4.0f},
      {{4, 2, 32, 16, 5000, {{1, 400}, {50, 100}}}, 4.0f},
      {{28, 4, 128, 16, 0, {{1, 300}, {50, 90}}}, 4.0f},
      {{8, 2, 128, 16, 0, {{1, 2000}, {64, 512}}}, 8.0f},
      {{8, 2, 128, 16, 300, {{1, 2000}, {64, 512}}}, 8.0f},
  };
  for (const auto& [s, q_range] : cases) ExpectMatchesCpu(s, q_range, pool);
}

// Rows before query_start[0] belong to no sequence: left as they were (NaN). A row with more
// queries than keys (context 0, a padding row) gets zeros; the others still match the CPU.
TEST(PagedAttentionF32Kernel, RowsOutsideSequencesAndPaddingRows) {
  base::ThreadPool pool(0);
  const AttentionCase s{8, 2, 64, 16, 0, {{1, 0}, {1, 50}, {0, 20}, {10, 30}, {1, 0}}};
  const int first_row = 3;
  std::mt19937 rng(FreshSeed());
  const Problem problem(s, rng, pool, {true, 4.0f, first_row});
  DeviceProblem device(s, problem);
  GPU_CHECK(kernels::LaunchPagedAttentionF32(device.params, nullptr));
  GPU_CHECK(cudaDeviceSynchronize());
  const std::vector<float> out = device.out.Download();
  const size_t row_width = static_cast<size_t>(s.heads) * s.head_dim;
  const size_t owned = first_row * row_width;
  EXPECT_EQ(CountNans(out, 0, owned), static_cast<int>(owned));
  EXPECT_EQ(CountNans(out, owned, out.size()), 0);
  const std::vector<float> owned_out(out.begin() + owned, out.end());
  const std::vector<float> owned_ref(problem.ref.begin() + owned, problem.ref.end());
  EXPECT_LT(RelativeError(owned_out, owned_ref), kMaxRelativeError);
  for (int padding_row : {problem.query_start[0], problem.query_start[4]}) {
    for (size_t i = 0; i < row_width; ++i) {
      ASSERT_EQ(out[padding_row * row_width + i], 0.0f) << "padding row " << padding_row;
    }
  }
}

TEST(PagedAttentionF32Kernel, RejectsBadParams) {
  // A valid launch first: one query over one key, so the output is exactly that key's value.
  base::ThreadPool pool(0);
  const AttentionCase s{2, 1, 8, 16, 0, {{1, 1}}};
  std::mt19937 rng(FreshSeed());
  const Problem problem(s, rng, pool, {true, 1.0f, 0});
  DeviceProblem device(s, problem);
  const kernels::PagedAttentionF32Params valid = device.params;
  ASSERT_EQ(kernels::LaunchPagedAttentionF32(valid, nullptr), cudaSuccess);
  GPU_CHECK(cudaDeviceSynchronize());
  const std::vector<float> out = device.out.Download();
  const size_t value = static_cast<size_t>(problem.tables[0]) * s.block_size * s.head_dim;
  for (int h = 0; h < s.heads; ++h) {
    for (int d = 0; d < s.head_dim; ++d) {
      EXPECT_EQ(out[h * s.head_dim + d], problem.v_cache[value + d]) << h << " " << d;
    }
  }

  using Mutation = void (*)(kernels::PagedAttentionF32Params&);
  const std::vector<std::pair<std::string, Mutation>> mutations = {
      {"num_seqs < 0", [](auto& p) { p.num_seqs = -1; }},
      {"odd head_dim", [](auto& p) { p.head_dim = 7; }},
      {"head_dim > 256", [](auto& p) { p.head_dim = 258; }},
      {"head_dim 0", [](auto& p) { p.head_dim = 0; }},
      {"num_heads % num_kv_heads", [](auto& p) { p.num_heads = 3, p.num_kv_heads = 2; }},
      {"num_kv_heads 0", [](auto& p) { p.num_kv_heads = 0; }},
      {"num_heads 0", [](auto& p) { p.num_heads = 0; }},
      {"block_size 0", [](auto& p) { p.block_size = 0; }},
      {"max_blocks_per_seq 0", [](auto& p) { p.max_blocks_per_seq = 0; }},
      {"negative window", [](auto& p) { p.sliding_window = -1; }},
      {"scale 0", [](auto& p) { p.scale = 0.0f; }},
      {"scale NaN", [](auto& p) { p.scale = NAN; }},
      {"scale inf", [](auto& p) { p.scale = INFINITY; }},
      {"null q", [](auto& p) { p.q = nullptr; }},
      {"null out", [](auto& p) { p.out = nullptr; }},
      {"null k_cache", [](auto& p) { p.k_cache = nullptr; }},
      {"null v_cache", [](auto& p) { p.v_cache = nullptr; }},
      {"null block_tables", [](auto& p) { p.block_tables = nullptr; }},
      {"null query_start", [](auto& p) { p.query_start = nullptr; }},
      {"null context_lens", [](auto& p) { p.context_lens = nullptr; }},
      {"q not 8-byte aligned", [](auto& p) { p.q += 1; }},
      {"v_cache not 8-byte aligned", [](auto& p) { p.v_cache += 1; }},
  };
  for (const auto& [name, mutate] : mutations) {
    kernels::PagedAttentionF32Params p = valid;
    mutate(p);
    EXPECT_EQ(kernels::LaunchPagedAttentionF32(p, nullptr), cudaErrorInvalidValue) << name;
  }
  // No sequences: nothing to do, whatever the rest says.
  EXPECT_EQ(kernels::LaunchPagedAttentionF32(kernels::PagedAttentionF32Params{}, nullptr),
            cudaSuccess);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

}  // namespace
}  // namespace stride::testing::gpu
