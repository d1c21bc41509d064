// The cuBLASLt wrapper against cpu::Linear, bf16 and fp32 outputs, decode- and prefill-like shapes,
// with the heuristic's algorithm and with measured selection (also when a shape is first seen
// inside CUDA-graph capture).
#include <memory>
#include <random>
#include <vector>

#include "base/thread_pool.h"
#include "engine/runner/cpu/ops.h"
#include "gtest/gtest.h"
#include "kernels/gemm/gemm.h"
#include "tests/gpu/gpu_test_util.h"

namespace stride::testing::gpu {
namespace {

// x [m, k] in [-1, 1) and w [n, k] in [-0.05, 0.05) (bf16 values unless fp32), and the CPU's
// x · w^T.
struct LinearCase {
  std::vector<float> x, w, ref;
};

LinearCase RandomLinear(int m, int n, int k, bool fp32, std::mt19937& rng, base::ThreadPool& pool) {
  auto random = [&](size_t count, float range) {
    return fp32 ? RandomValues(count, range, rng) : RandomBf16Values(count, range, rng);
  };
  LinearCase c;
  c.x = random(static_cast<size_t>(m) * k, 1.0f);
  c.w = random(static_cast<size_t>(n) * k, 0.05f);
  c.ref.resize(static_cast<size_t>(m) * n);
  engine::runner::cpu::Linear(c.x.data(), m, k, c.w.data(), nullptr, n, c.ref.data(), pool);
  return c;
}

class GemmKernel : public ::testing::TestWithParam<int> {};  // candidates timed per shape

TEST_P(GemmKernel, MatchesCpuLinear) {
  std::unique_ptr<kernels::GemmContext> context;
  GPU_CHECK(kernels::GemmContext::Create(32 << 20, &context, kernels::GemmTuning{GetParam(), 512}));
  base::ThreadPool pool(0);
  for (auto [m, n, k, f32] : {std::tuple{1, 4096, 4096, false},
                              {37, 6144, 1024, false},
                              {300, 2048, 1024, false},
                              {5, 32000, 512, true},
                              {64, 512, 14336, false},
                              {3, 512, 64, true}}) {
    std::mt19937 rng(FreshSeed());
    const auto [x, w, ref] = RandomLinear(m, n, k, /*fp32=*/false, rng, pool);

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
  // Shapes with m <= 512 (all six) are measured when tuning is on, unless cuBLASLt offers only
  // one candidate; none when it is off.
  const std::vector<kernels::GemmTuningRecord> records = context->tuning_records();
  if (GetParam() > 1) {
    EXPECT_GE(records.size(), 4u);
  } else {
    EXPECT_TRUE(records.empty());
  }
  for (const kernels::GemmTuningRecord& r : records) {
    EXPECT_GT(r.candidates, 1) << r.m << "x" << r.n << "x" << r.k;
    EXPECT_GT(r.heuristic_ms, 0.0f);
    EXPECT_LT(r.chosen, r.candidates);
  }
}

INSTANTIATE_TEST_SUITE_P(Selection, GemmKernel, ::testing::Values(1, 8));

// fp32 operands (the exact mode): full fp32 math, so the error is rounding-order only.
TEST(GemmKernelF32, MatchesCpuLinear) {
  std::unique_ptr<kernels::GemmContext> context;
  GPU_CHECK(kernels::GemmContext::Create(32 << 20, &context, kernels::GemmTuning{8, 512}));
  base::ThreadPool pool(0);
  for (auto [m, n, k] : {std::tuple{1, 512, 64}, {37, 640, 64}, {300, 192, 160}, {5, 2048, 1024}}) {
    std::mt19937 rng(FreshSeed());
    const auto [x, w, ref] = RandomLinear(m, n, k, /*fp32=*/true, rng, pool);
    DeviceArray<float> d_x(x), d_w(w), d_y(ref.size());
    kernels::GemmParams p;
    p.context = context.get();
    p.x = d_x.get();
    p.w = d_w.get();
    p.y = d_y.get();
    p.dtype = kernels::DType::kF32;
    p.output = kernels::GemmOutput::kF32;
    p.m = m;
    p.n = n;
    p.k = k;
    for (int repeat = 0; repeat < 2; ++repeat) {
      d_y.Poison();
      GPU_CHECK(kernels::LaunchGemm(p, nullptr));
      GPU_CHECK(cudaDeviceSynchronize());
      EXPECT_LT(RelativeError(d_y.Download(), ref), 1e-5) << m << "x" << n << "x" << k;
    }
    p.output = kernels::GemmOutput::kBF16;  // fp32 operands write fp32 only
    EXPECT_EQ(kernels::LaunchGemm(p, nullptr), cudaErrorInvalidValue);
  }
}

// A shape first launched inside stream capture keeps the heuristic's algorithm in the graph
// (nothing can be timed there) and is measured at its next eager launch; both give right results.
TEST(GemmKernelTuning, FirstSeenInsideCapture) {
  std::unique_ptr<kernels::GemmContext> context;
  GPU_CHECK(kernels::GemmContext::Create(32 << 20, &context, kernels::GemmTuning{8, 512}));
  base::ThreadPool pool(0);
  const int m = 48, n = 3072, k = 1024;
  std::mt19937 rng(FreshSeed());
  const auto [x, w, ref] = RandomLinear(m, n, k, /*fp32=*/false, rng, pool);
  DeviceArray<__nv_bfloat16> d_x(ToBf16(x)), d_w(ToBf16(w)), d_y(ref.size());
  kernels::GemmParams p;
  p.context = context.get();
  p.x = d_x.get();
  p.w = d_w.get();
  p.y = d_y.get();
  p.m = m;
  p.n = n;
  p.k = k;
  cudaStream_t stream;
  GPU_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  cudaGraph_t graph;
  GPU_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  GPU_CHECK(kernels::LaunchGemm(p, stream));
  GPU_CHECK(cudaStreamEndCapture(stream, &graph));
  EXPECT_TRUE(context->tuning_records().empty());
  cudaGraphExec_t exec;
  GPU_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  d_y.Poison();
  GPU_CHECK(cudaGraphLaunch(exec, stream));
  GPU_CHECK(cudaStreamSynchronize(stream));
  EXPECT_LT(RelativeError(d_y.Download(), ref), 1e-2);

  d_y.Poison();
  GPU_CHECK(kernels::LaunchGemm(p, stream));
  GPU_CHECK(cudaStreamSynchronize(stream));
  EXPECT_LT(RelativeError(d_y.Download(), ref), 1e-2);
  EXPECT_EQ(context->tuning_records().size(), 1u);
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(stream);
}

}  // namespace
}  // namespace stride::testing::gpu
