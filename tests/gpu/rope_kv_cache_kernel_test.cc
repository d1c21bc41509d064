// The fused bias + q/k-norm + RoPE + paged KV write against cpu::RmsNorm, cpu::ApplyRope and
// cpu::WriteKvCache, for Llama-3 (llama3 RoPE), Qwen2-like (bias) and Qwen3-like (q/k norm, yarn)
// shapes, in bf16, in fp32, and in bf16 with an fp8 e4m3 cache (scales 0.5 for k, 2 for v: the
// cache holds k / 0.5 and v / 2). One token of each case has slot -1 (k and v not cached), and
// every cache value outside the mapped slots, including the slot just before the cache, must stay
// NaN.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "engine/model/rope_frequencies.h"
#include "engine/runner/cpu/ops.h"
#include "gtest/gtest.h"
#include "kernels/rope/rope_kv_cache.h"
#include "tests/gpu/device_tensor.h"
#include "tests/gpu/gpu_test_util.h"

namespace stride::testing::gpu {
namespace {

namespace cpu = engine::runner::cpu;
using engine::model::ModelConfig;
using engine::model::RopeType;
using kernels::DType;

struct Case {
  int heads, kv_heads, head_dim;
  bool bias, qk_norm;
  RopeType rope;
  int tokens;
};

// The parameter is the cache's element type; activations are fp32 for an fp32 cache, else bf16.
class RopeKvCacheKernel : public ::testing::TestWithParam<DType> {};

TEST_P(RopeKvCacheKernel, MatchesCpuOps) {
  const DType kv_dtype = GetParam();
  const DType dtype = kv_dtype == DType::kF32 ? DType::kF32 : DType::kBF16;
  const bool fp8 = kv_dtype == DType::kFP8E4M3;
  const float k_scale = fp8 ? 0.5f : 1.0f, v_scale = fp8 ? 2.0f : 1.0f;
  // fp32: full-precision inputs and nothing rounded to bf16; what is left is the GPU's float sum
  // of squares and rsqrtf (q/k norm) and sincosf (<= 2 ulp) against the CPU's double sum and
  // double cos/sin, a few ulp: ~1e-6 at most.
  const double tolerance = dtype == DType::kF32 ? 1e-5 : 1e-2;
  for (const Case& c : {Case{32, 8, 128, false, false, RopeType::kLlama3, 45},
                        Case{4, 2, 16, true, false, RopeType::kDefault, 9},
                        Case{4, 2, 32, false, true, RopeType::kYarn, 20},
                        Case{8, 8, 64, true, true, RopeType::kLinear, 3}}) {
    std::mt19937 rng(FreshSeed());
    ModelConfig config;
    config.head_dim = c.head_dim;
    config.num_heads = c.heads;
    config.num_kv_heads = c.kv_heads;
    config.rope_theta = 500000.0;
    config.max_position_embeddings = 131072;
    config.rope_scaling.type = c.rope;
    config.rope_scaling.factor = 8.0;
    config.rope_scaling.original_max_position_embeddings = 8192;
    const engine::model::RopeFrequencies freqs = engine::model::ComputeRopeFrequencies(config);

    const int width = (c.heads + 2 * c.kv_heads) * c.head_dim;
    const int block_size = 16, num_blocks = 64;
    std::vector<float> qkv =
        RandomValuesFor(dtype, static_cast<size_t>(c.tokens) * width, 2.0f, rng);
    std::vector<float> bias = RandomValuesFor(dtype, width, 0.5f, rng);
    std::vector<float> q_norm = RandomValuesFor(dtype, c.head_dim, 1.5f, rng);
    std::vector<float> k_norm = RandomValuesFor(dtype, c.head_dim, 1.5f, rng);
    std::vector<int32_t> positions(c.tokens);
    for (int32_t& p : positions) p = std::uniform_int_distribution<int>(0, 100000)(rng);
    std::vector<int64_t> all_slots(static_cast<size_t>(num_blocks) * block_size);
    std::iota(all_slots.begin(), all_slots.end(), 0);
    std::shuffle(all_slots.begin(), all_slots.end(), rng);
    std::vector<int64_t> slots(all_slots.begin(), all_slots.begin() + c.tokens);
    slots[c.tokens / 2] = -1;  // a token whose k and v are not cached

    // Reference: split, bias, per-head norm, rotate, write.
    const int q_width = c.heads * c.head_dim, kv_width = c.kv_heads * c.head_dim;
    std::vector<float> q, k, v;
    for (int t = 0; t < c.tokens; ++t) {
      for (int i = 0; i < width; ++i) {
        const float x = qkv[static_cast<size_t>(t) * width + i] + (c.bias ? bias[i] : 0.0f);
        (i < q_width ? q : i < q_width + kv_width ? k : v).push_back(x);
      }
    }
    if (c.qk_norm) {
      cpu::RmsNorm(q.data(), q_norm.data(), c.tokens * c.heads, c.head_dim, 1e-6, q.data());
      cpu::RmsNorm(k.data(), k_norm.data(), c.tokens * c.kv_heads, c.head_dim, 1e-6, k.data());
    }
    cpu::ApplyRope(q.data(), c.tokens, c.heads, c.head_dim, positions.data(), freqs);
    cpu::ApplyRope(k.data(), c.tokens, c.kv_heads, c.head_dim, positions.data(), freqs);
    // The caches have one guard slot in front (slot -1 of the kernel's cache pointers).
    const int num_slots = num_blocks * block_size;
    const size_t cache_size = static_cast<size_t>(num_slots + 1) * kv_width;
    std::vector<float> k_cache(cache_size, 0.0f), v_cache(cache_size, 0.0f);
    for (int t = 0; t < c.tokens; ++t) {
      if (slots[t] < 0) continue;
      cpu::WriteKvCache(k.data() + static_cast<size_t>(t) * kv_width,
                        v.data() + static_cast<size_t>(t) * kv_width, 1, &slots[t], c.kv_heads,
                        c.head_dim, k_cache.data() + kv_width, v_cache.data() + kv_width);
    }

    DeviceTensor d_qkv(qkv, dtype), d_bias(bias, dtype);
    DeviceTensor d_q_norm(q_norm, dtype), d_k_norm(k_norm, dtype);
    DeviceArray<int32_t> d_positions(positions);
    DeviceArray<int64_t> d_slots(slots);
    DeviceArray<float> d_inv_freq(freqs.inv_freq);
    DeviceTensor d_q(q.size(), dtype), d_k_cache(cache_size, kv_dtype),
        d_v_cache(cache_size, kv_dtype);
    kernels::RopeKvCacheParams p;
    p.qkv = d_qkv.get();
    p.bias = c.bias ? d_bias.get() : nullptr;
    p.q_norm = c.qk_norm ? d_q_norm.get() : nullptr;
    p.k_norm = c.qk_norm ? d_k_norm.get() : nullptr;
    p.norm_eps = 1e-6f;
    p.positions = d_positions.get();
    p.inv_freq = d_inv_freq.get();
    p.attention_scaling = freqs.attention_scaling;
    p.slot_mapping = d_slots.get();
    p.q_out = d_q.get();
    p.k_cache = d_k_cache.PointerTo(kv_width);
    p.v_cache = d_v_cache.PointerTo(kv_width);
    p.num_tokens = c.tokens;
    p.num_heads = c.heads;
    p.num_kv_heads = c.kv_heads;
    p.head_dim = c.head_dim;
    p.dtype = dtype;
    p.kv_dtype = kv_dtype;
    p.k_scale = k_scale;
    p.v_scale = v_scale;
    GPU_CHECK(kernels::LaunchRopeKvCache(p, nullptr));
    GPU_CHECK(cudaDeviceSynchronize());

    // q is written for every token, the one with slot -1 included.
    EXPECT_LT(RelativeError(d_q.Download(), q), tolerance) << c.head_dim;
    // Compare the mapped slots; everything else must still be the poison.
    std::vector<bool> mapped(num_slots + 1, false);  // by slot + 1
    for (int64_t s : slots) {
      if (s >= 0) mapped[s + 1] = true;
    }
    auto gather = [&](const std::vector<float>& cache) {
      std::vector<float> out;
      for (int64_t s : slots) {
        if (s < 0) continue;
        out.insert(out.end(), cache.begin() + (s + 1) * kv_width,
                   cache.begin() + (s + 2) * kv_width);
      }
      return out;
    };
    const std::vector<float> gpu_k = d_k_cache.Download(), gpu_v = d_v_cache.Download();
    if (fp8) {  // the stored elements against the reference divided by the scale, in e4m3
      auto stored = [](const std::vector<float>& values, float scale) {
        return Fp8Values(ToFp8(values, scale), 1.0f);
      };
      // Elements within rounding of an e4m3 tie may land one step apart (6 %), a few at most.
      EXPECT_LT(RelativeError(gather(gpu_k), stored(gather(k_cache), k_scale)), 1e-2);
      EXPECT_LT(RelativeError(gather(gpu_v), stored(gather(v_cache), v_scale)), 1e-2);
    } else {
      EXPECT_LT(RelativeError(gather(gpu_k), gather(k_cache)), tolerance);
      EXPECT_LT(RelativeError(gather(gpu_v), gather(v_cache)), tolerance);
    }
    int64_t written_outside = 0;
    for (const std::vector<float>* cache : {&gpu_k, &gpu_v}) {
      for (int s = 0; s <= num_slots; ++s) {
        if (mapped[s]) continue;
        for (int i = 0; i < kv_width; ++i) {
          written_outside += !std::isnan((*cache)[static_cast<size_t>(s) * kv_width + i]);
        }
      }
    }
    EXPECT_EQ(written_outside, 0) << "values written outside the mapped slots";
  }
}

INSTANTIATE_TEST_SUITE_P(DTypes, RopeKvCacheKernel,
                         ::testing::Values(DType::kBF16, DType::kF32, DType::kFP8E4M3), DTypeName);

TEST(RopeKvCacheKernelParams, RejectsBadCacheTypesAndScales) {
  kernels::RopeKvCacheParams p;
  p.num_tokens = 1;
  p.num_heads = 1;
  p.num_kv_heads = 1;
  p.head_dim = 16;
  p.dtype = DType::kF32;
  p.kv_dtype = DType::kBF16;  // must match fp32 activations
  EXPECT_EQ(kernels::LaunchRopeKvCache(p, nullptr), cudaErrorInvalidValue);
  p.kv_dtype = DType::kFP8E4M3;  // fp8 caches go with bf16 activations
  EXPECT_EQ(kernels::LaunchRopeKvCache(p, nullptr), cudaErrorInvalidValue);
  p.dtype = DType::kBF16;
  p.k_scale = 0.0f;
  EXPECT_EQ(kernels::LaunchRopeKvCache(p, nullptr), cudaErrorInvalidValue);
  p.k_scale = 1.0f;
  p.v_scale = INFINITY;
  EXPECT_EQ(kernels::LaunchRopeKvCache(p, nullptr), cudaErrorInvalidValue);
  p.dtype = DType::kFP8E4M3;  // not an activation type
  p.v_scale = 1.0f;
  EXPECT_EQ(kernels::LaunchRopeKvCache(p, nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

}  // namespace
}  // namespace stride::testing::gpu
