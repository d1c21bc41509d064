// Kernel-tier figures: GEMM TFLOP/s here, then the paged attention benchmarks
// (decode_attention_bench.cc, prefill_attention_bench.cc).
#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <random>

#include "kernels/gemm/gemm.h"
#include "tests/gpu/bench/bench_util.h"

namespace stride::testing::gpu {
namespace {

constexpr double kGemmPeak = 855e12;
constexpr double kBandwidth = 4.28e12;

void GemmBench(kernels::GemmContext* context, int m, int n, int k) {
  std::mt19937 rng(FreshSeed());
  DeviceArray<__nv_bfloat16> x(ToBf16(RandomBf16Values(static_cast<size_t>(m) * k, 1.0f, rng)));
  DeviceArray<__nv_bfloat16> w(ToBf16(RandomBf16Values(static_cast<size_t>(n) * k, 0.05f, rng)));
  DeviceArray<__nv_bfloat16> y(static_cast<size_t>(m) * n);
  kernels::GemmParams p;
  p.context = context;
  p.x = x.get();
  p.w = w.get();
  p.y = y.get();
  p.m = m;
  p.n = n;
  p.k = k;
  const double ms = MedianMs([&] { GPU_CHECK(kernels::LaunchGemm(p, nullptr)); });
  const double flops = 2.0 * m * n * k;
  const double bytes =
      2.0 * (static_cast<double>(m) * k + static_cast<double>(n) * k + static_cast<double>(m) * n);
  const double floor_ms = std::max(flops / kGemmPeak, bytes / kBandwidth) * 1e3;
  const std::string shape = std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
  Report("gemm_bf16_ms", shape, ms, "ms", floor_ms, "floor");
  Report("gemm_bf16_tflops", shape, flops / ms / 1e9, "TFLOP/s", kGemmPeak / 1e12, "anchor");
}

}  // namespace

void RunKernelBenchmarks() {
  std::unique_ptr<kernels::GemmContext> context;
  GPU_CHECK(kernels::GemmContext::Create(64 << 20, &context));
  GemmBench(context.get(), 8192, 8192, 8192);
  GemmBench(context.get(), 8192, 6144, 4096);   // Llama-3.1-8B qkv at an 8k prefill
  GemmBench(context.get(), 8192, 28672, 4096);  // gate_up
  GemmBench(context.get(), 1, 28672, 4096);     // batch-1 decode gate_up: bandwidth-bound
  GemmBench(context.get(), 64, 28672, 4096);
  RunDecodeAttentionBenchmarks();
  RunPrefillAttentionBenchmarks();
}

}  // namespace stride::testing::gpu
