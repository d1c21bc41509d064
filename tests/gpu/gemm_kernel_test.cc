// The cuBLASLt wrapper against cpu::Linear, bf16 and fp32 outputs, decode- and prefill-like shapes.
#include <memory>
#include <random>

#include "base/thread_pool.h"
#include "engine/runner/cpu/ops.h"
#include "gtest/gtest.h"
#include "kernels/gemm/gemm.h"
#include "tests/gpu/gpu_test_util.h"

namespace stride::testing::gpu {
namespace {

TEST(GemmKernel, MatchesCpuLinear) {
  std::unique_ptr<kernels::GemmContext> context;
  GPU_CHECK(kernels::GemmContext::Create(32 << 20, &context));
  base::ThreadPool pool(0);
  for (auto [m, n, k, f32] : {std::tuple{1, 4096, 4096, false}, {37, 6144, 1024, false},
                              {300, 2048, 1024, false}, {5, 32000, 512, true},
                              {64, 512, 14336, false}, {3, 512, 64, true}}) {
    std::mt19937 rng(FreshSeed());
    std::vector<float> x = RandomBf16Values(static_cast<size_t>(m) * k, 1.0f, rng);
    std::vector<float> w = RandomBf16Values(static_cast<size_t>(n) * k, 0.05f, rng);
    std::vector<float> ref(static_cast<size_t>(m) * n);
    engine::runner::cpu::Linear(x.data(), m, k, w.data(), nullptr, n, ref.data(), pool);

    DeviceArray<__nv_bfloat16> d_x(ToBf16(x)), d_w(ToBf16(w));
    kernels::GemmParams p;
    p.context = context.get();
    p.x = d_x.get();
    p.w = d_w.get();
    p.m = m;
    p.n = n;
    p.k = k;
    for (int repeat = 0; repeat < 2; ++repeat) {  // the second run uses the cached plan
      double error;
      if (f32) {
        DeviceArray<float> d_y(ref.size());
        d_y.Poison();
        p.y = d_y.get();
        p.output = kernels::GemmOutput::kF32;
        GPU_CHECK(kernels::LaunchGemm(p, nullptr));
        GPU_CHECK(cudaDeviceSynchronize());
        error = RelativeError(d_y.Download(), ref);
        EXPECT_LT(error, 1e-3) << m << "x" << n << "x" << k;
      } else {
        DeviceArray<__nv_bfloat16> d_y(ref.size());
        d_y.Poison();
        p.y = d_y.get();
        p.output = kernels::GemmOutput::kBF16;
        GPU_CHECK(kernels::LaunchGemm(p, nullptr));
        GPU_CHECK(cudaDeviceSynchronize());
        error = RelativeError(d_y.Download(), ref);
        EXPECT_LT(error, 1e-2) << m << "x" << n << "x" << k;
      }
    }
  }
}

}  // namespace
}  // namespace stride::testing::gpu
