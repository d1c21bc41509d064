// Paged prefill attention against cpu::PagedAttention: GQA groups 1 to 16 (8 to 128 tokens per
// 128-row tile), head_dim 16/32/64/128, block sizes 4, 8 and 16, chunked prefill and prefix hits
// (context longer than the query chunk), sliding windows; the same problems with an fp8 (e4m3)
// cache at scales 0.05/3 and 1/1 against the reference on the e4m3 values; an exact check of the
// widening of every e4m3 value; and the launchers' rejection of unsupported head dims, cache
// types and scales.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "base/thread_pool.h"
#include "engine/runner/cpu/ops.h"
#include "gtest/gtest.h"
#include "kernels/attention/paged_attention.h"
#include "tests/gpu/gpu_test_util.h"
#include "tests/gpu/paged_attention_problem.h"

namespace stride::testing::gpu {
namespace {

std::vector<AttentionCase> PrefillSetups() {
  return {
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
}

// A problem's queries, block tables and work items on the device, and a launch over them.
class DevicePrefill {
 public:
  DevicePrefill(const AttentionCase& s, const Problem& problem)
      : s_(s),
        problem_(problem),
        work_(Plan(s)),
        q_(ToBf16(problem.q)),
        out_(problem.q.size()),
        tables_(problem.tables),
        start_(problem.query_start),
        context_(problem.context_lens),
        d_work_(work_) {}

  // Parameters for bf16 caches; fp8 callers set kv_dtype and the scales.
  kernels::PagedPrefillParams Params(const void* k_cache, const void* v_cache) const {
    kernels::PagedPrefillParams p;
    p.q = q_.get();
    p.out = out_.get();
    p.k_cache = k_cache;
    p.v_cache = v_cache;
    p.block_tables = tables_.get();
    p.max_blocks_per_seq = problem_.width;
    p.query_start = start_.get();
    p.context_lens = context_.get();
    p.work = d_work_.get();
    p.num_work = static_cast<int>(work_.size());
    p.num_heads = s_.heads;
    p.num_kv_heads = s_.kv_heads;
    p.head_dim = s_.head_dim;
    p.block_size = s_.block_size;
    p.sliding_window = s_.window;
    p.scale = 1.0f / std::sqrt(static_cast<float>(s_.head_dim));
    return p;
  }

  // Poisons the output, launches and returns what the kernel wrote.
  std::vector<__nv_bfloat16> Run(const kernels::PagedPrefillParams& p) {
    out_.Poison();
    GPU_CHECK(kernels::LaunchPagedPrefill(p, nullptr));
    GPU_CHECK(cudaDeviceSynchronize());
    return out_.Download();
  }

 private:
  static std::vector<kernels::PrefillWorkItem> Plan(const AttentionCase& s) {
    std::vector<int> query_lens, context_lens;
    for (const Seq& q : s.seqs) {
      query_lens.push_back(q.query_len);
      context_lens.push_back(q.context_len);
    }
    return kernels::PlanPagedPrefill(query_lens, context_lens, s.heads, s.kv_heads, s.window);
  }

  const AttentionCase& s_;
  const Problem& problem_;
  std::vector<kernels::PrefillWorkItem> work_;
  DeviceArray<__nv_bfloat16> q_, out_;
  DeviceArray<int32_t> tables_, start_, context_;
  DeviceArray<kernels::PrefillWorkItem> d_work_;
};

TEST(PagedPrefillKernel, MatchesCpuPagedAttention) {
  base::ThreadPool pool(0);
  for (const AttentionCase& s : PrefillSetups()) {
    std::mt19937 rng(FreshSeed());
    Problem problem(s, rng, pool);
    DevicePrefill prefill(s, problem);
    DeviceArray<__nv_bfloat16> d_k(ToBf16(problem.k_cache)), d_v(ToBf16(problem.v_cache));
    const std::vector<__nv_bfloat16> out = prefill.Run(prefill.Params(d_k.get(), d_v.get()));
    EXPECT_LT(RelativeError(out, problem.ref), 1e-2) << Describe(s);
  }
}

// The same problems with the cache stored as e4m3 (value / scale; the null block stays NaN), the
// reference computed on the values the e4m3 elements stand for. Scales other than 1 catch a scale
// left out of the scores (k) or the output (v); v_scale 3 puts ~5 % of V in e4m3 subnormals.
TEST(PagedPrefillKernel, Fp8CacheMatchesCpuPagedAttention) {
  base::ThreadPool pool(0);
  std::vector<AttentionCase> setups = PrefillSetups();
  // fp8 copies runs of 4 keys at d128 (2 at d64): block size 2 splits them (per-key lookups).
  setups.push_back({8, 2, 128, 2, 40, {{100, 300}, {70, 70}}});
  struct Scales {
    float k, v;
  };
  ProblemOptions options;
  options.reference = false;  // each scale's reference is over the values the elements stand for
  for (const AttentionCase& s : setups) {
    std::mt19937 rng(FreshSeed());
    Problem problem(s, rng, pool, options);
    DevicePrefill prefill(s, problem);
    for (const Scales scales : {Scales{0.05f, 3.0f}, Scales{1.0f, 1.0f}}) {
      const std::vector<__nv_fp8_e4m3> k8 = ToFp8(problem.k_cache, scales.k);
      const std::vector<__nv_fp8_e4m3> v8 = ToFp8(problem.v_cache, scales.v);
      const std::vector<float> ref =
          problem.ReferenceOver(s, Fp8Values(k8, scales.k), Fp8Values(v8, scales.v), pool);
      DeviceArray<__nv_fp8_e4m3> d_k(k8), d_v(v8);
      kernels::PagedPrefillParams p = prefill.Params(d_k.get(), d_v.get());
      p.kv_dtype = kernels::DType::kFP8E4M3;
      p.k_scale = scales.k;
      p.v_scale = scales.v;
      EXPECT_LT(RelativeError(prefill.Run(p), ref), 1e-2)
          << Describe(s) << " fp8 k_scale " << scales.k << " v_scale " << scales.v;
    }
  }
}

// One query that sees one key, with q = 0: its softmax weight is exactly 1, so the output is the
// widened V row times v_scale, rounded once to bf16. The row holds all 256 e4m3 codes (the two
// NaN codes replaced by 0) over 2 heads x 128, so every value (subnormals, +-448) must come back
// bit for bit. The null block and the block's later keys are NaN: reading them fails the test.
TEST(PagedPrefillKernel, Fp8WideningIsExact) {
  constexpr int kHeads = 2, kDim = 128, kBlock = 16, kCodes = kHeads * kDim;
  __nv_fp8_e4m3 nan_code;
  nan_code.__x = 0x7f;
  std::vector<__nv_fp8_e4m3> cache(2 * kBlock * kCodes, nan_code);  // blocks 0 (null) and 1
  for (int c = 0; c < kCodes; ++c) {
    cache[kBlock * kCodes + c].__x = static_cast<__nv_fp8_storage_t>((c & 0x7f) == 0x7f ? 0 : c);
  }
  DeviceArray<__nv_fp8_e4m3> d_cache(cache);
  DeviceArray<__nv_bfloat16> d_q(std::vector<__nv_bfloat16>(kCodes, __float2bfloat16(0.0f)));
  DeviceArray<__nv_bfloat16> d_out(kCodes);
  DeviceArray<int32_t> d_tables(std::vector<int32_t>{1}), d_start(std::vector<int32_t>{0, 1}),
      d_context(std::vector<int32_t>{1});
  DeviceArray<kernels::PrefillWorkItem> d_work(
      kernels::PlanPagedPrefill({1}, {1}, kHeads, kHeads, 0));
  for (const float v_scale : {1.0f, 3.0f}) {
    kernels::PagedPrefillParams p;
    p.q = d_q.get();
    p.out = d_out.get();
    p.k_cache = d_cache.get();
    p.v_cache = d_cache.get();
    p.kv_dtype = kernels::DType::kFP8E4M3;
    p.k_scale = 0.05f;
    p.v_scale = v_scale;
    p.block_tables = d_tables.get();
    p.max_blocks_per_seq = 1;
    p.query_start = d_start.get();
    p.context_lens = d_context.get();
    p.work = d_work.get();
    p.num_work = static_cast<int>(d_work.size());
    p.num_heads = p.num_kv_heads = kHeads;
    p.head_dim = kDim;
    p.block_size = kBlock;
    p.scale = 1.0f / std::sqrt(static_cast<float>(kDim));
    d_out.Poison();
    GPU_CHECK(kernels::LaunchPagedPrefill(p, nullptr));
    GPU_CHECK(cudaDeviceSynchronize());
    const std::vector<__nv_bfloat16> out = d_out.Download();
    int mismatches = 0;
    for (int c = 0; c < kCodes; ++c) {
      const float value = static_cast<float>(cache[kBlock * kCodes + c]);
      const float expected = __bfloat162float(__float2bfloat16(value * v_scale));
      if (ToFloat(out[c]) != expected && ++mismatches <= 8) {
        ADD_FAILURE() << "code 0x" << std::hex << c << std::dec << " (" << value << ") v_scale "
                      << v_scale << ": got " << ToFloat(out[c]) << ", expected " << expected;
      }
    }
    EXPECT_EQ(mismatches, 0) << "v_scale " << v_scale;
  }
}

// A valid fp8 launch first (so each rejection below is due to the one field changed), then bad
// cache types and scales: rejected before anything is launched. Scales are checked for bf16
// caches too.
TEST(PagedPrefillKernel, RejectsBadKvDtypeAndScales) {
  base::ThreadPool pool(0);
  std::mt19937 rng(FreshSeed());
  const AttentionCase s = {4, 2, 64, 16, 0, {{20, 20}}};
  Problem problem(s, rng, pool);
  DevicePrefill prefill(s, problem);
  DeviceArray<__nv_fp8_e4m3> d_k(ToFp8(problem.k_cache, 0.5f)), d_v(ToFp8(problem.v_cache, 0.5f));
  kernels::PagedPrefillParams valid = prefill.Params(d_k.get(), d_v.get());
  valid.kv_dtype = kernels::DType::kFP8E4M3;
  valid.k_scale = valid.v_scale = 0.5f;
  EXPECT_EQ(kernels::LaunchPagedPrefill(valid, nullptr), cudaSuccess);
  GPU_CHECK(cudaDeviceSynchronize());

  for (const kernels::DType dtype : {kernels::DType::kF32, static_cast<kernels::DType>(7)}) {
    kernels::PagedPrefillParams p = valid;
    p.kv_dtype = dtype;
    EXPECT_EQ(kernels::LaunchPagedPrefill(p, nullptr), cudaErrorInvalidValue)
        << static_cast<int>(dtype);
  }
  const float bad_scales[] = {0.0f, -1.0f, std::numeric_limits<float>::quiet_NaN(),
                              std::numeric_limits<float>::infinity()};
  for (const kernels::DType dtype : {kernels::DType::kFP8E4M3, kernels::DType::kBF16}) {
    for (const float bad : bad_scales) {
      kernels::PagedPrefillParams k_bad = valid, v_bad = valid;
      k_bad.kv_dtype = v_bad.kv_dtype = dtype;
      k_bad.k_scale = bad;
      v_bad.v_scale = bad;
      EXPECT_EQ(kernels::LaunchPagedPrefill(k_bad, nullptr), cudaErrorInvalidValue)
          << "k_scale " << bad << " dtype " << static_cast<int>(dtype);
      EXPECT_EQ(kernels::LaunchPagedPrefill(v_bad, nullptr), cudaErrorInvalidValue)
          << "v_scale " << bad << " dtype " << static_cast<int>(dtype);
    }
  }
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

TEST(PagedAttentionKernels, RejectUnsupportedHeadDim) {
  kernels::PagedPrefillParams prefill;
  prefill.num_work = 1;
  prefill.num_heads = prefill.num_kv_heads = 1;
  prefill.head_dim = 96;
  EXPECT_EQ(kernels::LaunchPagedPrefill(prefill, nullptr), cudaErrorInvalidValue);
  prefill.kv_dtype = kernels::DType::kFP8E4M3;
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
