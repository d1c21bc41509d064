// The skinny-GEMM (decode) kernel against cpu::Linear (bf16 and fp32 outputs, every row-count
// template, ragged n) and, with the fused SwiGLU epilogue, against cpu::Linear + cpu::SiluAndMul;
// each with and without the 256-byte L2 hint on the weight loads (a cache hint only: the same
// results).
#include <random>
#include <tuple>

#include "base/thread_pool.h"
#include "engine/runner/cpu/ops.h"
#include "gtest/gtest.h"
#include "kernels/gemm/gemv.h"
#include "tests/gpu/gpu_test_util.h"

namespace stride::testing::gpu {
namespace {

TEST(GemvKernel, MatchesCpuLinear) {
  base::ThreadPool pool(0);
  for (auto [m, n, k, f32, hint] :
       {std::tuple{1, 4096, 4096, false, false}, {1, 4096, 4096, false, true},
        {1, 1003, 14336, true, false}, {1, 1003, 14336, true, true}, {2, 6144, 4096, false, false},
        {3, 777, 512, false, true}, {4, 2048, 1024, true, false}, {5, 4099, 4096, false, false},
        {8, 512, 14336, false, true}, {7, 130, 64, true, false}, {1, 13, 8, false, false}}) {
    std::mt19937 rng(FreshSeed());
    std::vector<float> x = RandomBf16Values(static_cast<size_t>(m) * k, 1.0f, rng);
    std::vector<float> w = RandomBf16Values(static_cast<size_t>(n) * k, 0.05f, rng);
    std::vector<float> ref(static_cast<size_t>(m) * n);
    engine::runner::cpu::Linear(x.data(), m, k, w.data(), nullptr, n, ref.data(), pool);

    DeviceArray<__nv_bfloat16> d_x(ToBf16(x)), d_w(ToBf16(w));
    kernels::GemvParams p;
    p.x = d_x.get();
    p.w = d_w.get();
    p.m = m;
    p.n = n;
    p.k = k;
    p.l2_256b_hint = hint;
    if (f32) {
      DeviceArray<float> d_y(ref.size());
      d_y.Poison();
      p.y = d_y.get();
      p.output = kernels::GemmOutput::kF32;
      ASSERT_TRUE(kernels::GemvSupports(p));
      GPU_CHECK(kernels::LaunchGemv(p, nullptr));
      GPU_CHECK(cudaDeviceSynchronize());
      EXPECT_LT(RelativeError(d_y.Download(), ref), 1e-4) << m << "x" << n << "x" << k << (hint ? " L2::256B" : "");
    } else {
      DeviceArray<__nv_bfloat16> d_y(ref.size());
      d_y.Poison();
      p.y = d_y.get();
      ASSERT_TRUE(kernels::GemvSupports(p));
      GPU_CHECK(kernels::LaunchGemv(p, nullptr));
      GPU_CHECK(cudaDeviceSynchronize());
      EXPECT_LT(RelativeError(d_y.Download(), ref), 1e-2) << m << "x" << n << "x" << k << (hint ? " L2::256B" : "");
    }
  }
}

TEST(GemvKernel, FusedSwigluMatchesCpu) {
  base::ThreadPool pool(0);
  for (auto [m, ffn, k, bias, hint] :
       {std::tuple{1, 14336, 4096, false, false}, {1, 14336, 4096, true, true},
        {2, 1000, 1024, true, false}, {4, 258, 512, false, true}, {8, 3000, 4096, true, false},
        {6, 7, 64, true, false}}) {
    std::mt19937 rng(FreshSeed());
    const int n = 2 * ffn;
    std::vector<float> x = RandomBf16Values(static_cast<size_t>(m) * k, 1.0f, rng);
    std::vector<float> w = RandomBf16Values(static_cast<size_t>(n) * k, 0.05f, rng);
    std::vector<float> b = RandomBf16Values(n, 0.5f, rng);
    std::vector<float> gate_up(static_cast<size_t>(m) * n);
    engine::runner::cpu::Linear(x.data(), m, k, w.data(), bias ? b.data() : nullptr, n,
                                gate_up.data(), pool);
    std::vector<float> ref(static_cast<size_t>(m) * ffn);
    for (int r = 0; r < m; ++r) {
      engine::runner::cpu::SiluAndMul(&gate_up[static_cast<size_t>(r) * n],
                                      &gate_up[static_cast<size_t>(r) * n + ffn], ffn,
                                      &ref[static_cast<size_t>(r) * ffn]);
    }
    DeviceArray<__nv_bfloat16> d_x(ToBf16(x)), d_w(ToBf16(w)), d_b(ToBf16(b));
    DeviceArray<__nv_bfloat16> d_y(ref.size());
    d_y.Poison();
    kernels::GemvParams p;
    p.x = d_x.get();
    p.w = d_w.get();
    p.bias = bias ? d_b.get() : nullptr;
    p.y = d_y.get();
    p.swiglu = true;
    p.m = m;
    p.n = n;
    p.k = k;
    p.l2_256b_hint = hint;
    ASSERT_TRUE(kernels::GemvSupports(p));
    GPU_CHECK(kernels::LaunchGemv(p, nullptr));
    GPU_CHECK(cudaDeviceSynchronize());
    EXPECT_LT(RelativeError(d_y.Download(), ref), 1e-2) << m << "x" << ffn << "x" << k << (hint ? " L2::256B" : "");
  }
}

TEST(GemvKernel, RejectsUnsupportedShapes) {
  kernels::GemvParams p;
  DeviceArray<__nv_bfloat16> buf(1024);
  p.x = buf.get();
  p.w = buf.get();
  p.y = buf.get();
  p.m = 9;
  p.n = 16;
  p.k = 16;
  EXPECT_FALSE(kernels::GemvSupports(p));
  EXPECT_EQ(kernels::LaunchGemv(p, nullptr), cudaErrorInvalidValue);
  p.m = 1;
  p.k = 12;
  EXPECT_FALSE(kernels::GemvSupports(p));
  p.k = 16;
  p.x = buf.get() + 1;  // not 16-byte aligned
  EXPECT_FALSE(kernels::GemvSupports(p));
  p.x = buf.get();
  p.swiglu = true;
  p.n = 15;
  EXPECT_FALSE(kernels::GemvSupports(p));
  p.n = 16;
  EXPECT_TRUE(kernels::GemvSupports(p));
}

}  // namespace
}  // namespace stride::testing::gpu
