// The fused bias + q/k-norm + RoPE + paged KV write against cpu::RmsNorm, cpu::ApplyRope and
// cpu::WriteKvCache, for Llama-3 (llama3 RoPE), Qwen2-like (bias) and Qwen3-like (q/k norm, yarn)
// shapes.
#include <algorithm>
#include <numeric>
#include <random>

#include "engine/model/rope_frequencies.h"
#include "engine/runner/cpu/ops.h"
#include "gtest/gtest.h"
#include "kernels/rope/rope_kv_cache.h"
#include "tests/gpu/gpu_test_util.h"

namespace stride::testing::gpu {
namespace {

namespace cpu = engine::runner::cpu;
using engine::model::ModelConfig;
using engine::model::RopeType;

struct Case {
  int heads, kv_heads, head_dim;
  bool bias, qk_norm;
  RopeType rope;
  int tokens;
};

TEST(RopeKvCacheKernel, MatchesCpuOps) {
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
    std::vector<float> qkv = RandomBf16Values(static_cast<size_t>(c.tokens) * width, 2.0f, rng);
    std::vector<float> bias = RandomBf16Values(width, 0.5f, rng);
    std::vector<float> q_norm = RandomBf16Values(c.head_dim, 1.5f, rng);
    std::vector<float> k_norm = RandomBf16Values(c.head_dim, 1.5f, rng);
    std::vector<int32_t> positions(c.tokens);
    for (int32_t& p : positions) p = std::uniform_int_distribution<int>(0, 100000)(rng);
    std::vector<int64_t> all_slots(static_cast<size_t>(num_blocks) * block_size);
    std::iota(all_slots.begin(), all_slots.end(), 0);
    std::shuffle(all_slots.begin(), all_slots.end(), rng);
    std::vector<int64_t> slots(all_slots.begin(), all_slots.begin() + c.tokens);

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
    const size_t cache_size = static_cast<size_t>(num_blocks) * block_size * kv_width;
    std::vector<float> k_cache(cache_size, 0.0f), v_cache(cache_size, 0.0f);
    cpu::WriteKvCache(k.data(), v.data(), c.tokens, slots.data(), c.kv_heads, c.head_dim,
                      k_cache.data(), v_cache.data());

    DeviceArray<__nv_bfloat16> d_qkv(ToBf16(qkv)), d_bias(ToBf16(bias));
    DeviceArray<__nv_bfloat16> d_q_norm(ToBf16(q_norm)), d_k_norm(ToBf16(k_norm));
    DeviceArray<int32_t> d_positions(positions);
    DeviceArray<int64_t> d_slots(slots);
    DeviceArray<float> d_inv_freq(freqs.inv_freq);
    DeviceArray<__nv_bfloat16> d_q(q.size()), d_k_cache(cache_size), d_v_cache(cache_size);
    d_q.Poison();
    d_k_cache.Poison();
    d_v_cache.Poison();
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
    p.k_cache = d_k_cache.get();
    p.v_cache = d_v_cache.get();
    p.num_tokens = c.tokens;
    p.num_heads = c.heads;
    p.num_kv_heads = c.kv_heads;
    p.head_dim = c.head_dim;
    GPU_CHECK(kernels::LaunchRopeKvCache(p, nullptr));
    GPU_CHECK(cudaDeviceSynchronize());

    EXPECT_LT(RelativeError(d_q.Download(), q), 1e-2) << c.head_dim;
    // Compare only the written slots (the rest stays poisoned, and must not be touched).
    auto gather = [&](const auto& cache) {
      std::vector<float> out;
      for (int64_t s : slots) {
        for (int i = 0; i < kv_width; ++i) out.push_back(ToFloat(cache[s * kv_width + i]));
      }
      return out;
    };
    const auto gpu_k = d_k_cache.Download(), gpu_v = d_v_cache.Download();
    EXPECT_LT(RelativeError(gather(gpu_k), gather(k_cache)), 1e-2);
    EXPECT_LT(RelativeError(gather(gpu_v), gather(v_cache)), 1e-2);
    EXPECT_TRUE(std::isnan(ToFloat(gpu_k[all_slots.back() * kv_width])))
        << "an unmapped slot was written";
  }
}

}  // namespace
}  // namespace stride::testing::gpu
