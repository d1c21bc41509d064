// cuBLASLt's first heuristic answer against the fastest of its first 16, per Llama-3.1-8B
// projection shape at decode batch sizes and prefill chunk sizes (`--gemm-tuning`). Both are
// timed by GemmContext's own measurement (5 launches after a warm-up, each after L2 is
// overwritten, operands of the shape);
// the figure is the chosen algorithm's TFLOP/s next to the 855 TFLOP/s anchor, with the
// heuristic's TFLOP/s as the reference. Weights are 32 copies rotated per launch in the
// re-timing below, so the small-m rows are not served from L2.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/gemm/gemm.h"
#include "tests/gpu/bench/bench_util.h"

namespace stride::testing::gpu {
namespace {

constexpr double kGemmPeak = 855e12;
constexpr int kHidden = 4096, kFfn = 14336, kQkv = 6144, kVocab = 128256;

struct Shape {
  const char* name;
  int n, k;
  kernels::GemmOutput output;
};

// Median ms of one launch with the context's chosen plan, weights rotated over `copies`.
double RotatedMs(kernels::GemmContext* context, const DeviceArray<__nv_bfloat16>& x,
                 const DeviceArray<__nv_bfloat16>& w, size_t w_elems, int copies, void* y, int m,
                 const Shape& s) {
  kernels::GemmParams p;
  p.context = context, p.x = x.get(), p.y = y, p.output = s.output;
  p.m = m, p.n = s.n, p.k = s.k;
  int next = 0;
  return MedianMs([&] {
    p.w = w.get() + static_cast<size_t>(next) * w_elems;
    next = (next + 1) % copies;
    GPU_CHECK(kernels::LaunchGemm(p, nullptr));
  });
}

}  // namespace

void RunGemmTuningBenchmarks() {
  std::mt19937 rng(FreshSeed());
  const Shape shapes[] = {{"qkv", kQkv, kHidden, kernels::GemmOutput::kBF16},
                          {"o", kHidden, kHidden, kernels::GemmOutput::kBF16},
                          {"gate_up", 2 * kFfn, kHidden, kernels::GemmOutput::kBF16},
                          {"down", kHidden, kFfn, kernels::GemmOutput::kBF16},
                          {"lm_head", kVocab, kHidden, kernels::GemmOutput::kF32}};
  constexpr int kMaxM = 16384;
  DeviceArray<__nv_bfloat16> x(
      ToBf16(RandomBf16Values(static_cast<size_t>(kMaxM) * kFfn, 1.0f, rng)));
  DeviceArray<float> y(static_cast<size_t>(kMaxM) * 2 * kFfn);  // >= 512 x vocab too
  const size_t max_w = static_cast<size_t>(kVocab) * kHidden;   // the largest weight
  constexpr size_t kWeightBytes = size_t{4} << 30;              // rotated over 4 GB
  DeviceArray<__nv_bfloat16> w(kWeightBytes / sizeof(__nv_bfloat16));
  {
    DeviceArray<__nv_bfloat16> source(ToBf16(RandomBf16Values(max_w, 0.05f, rng)));
    for (size_t at = 0; at + max_w <= w.size(); at += max_w) {
      GPU_CHECK(cudaMemcpy(w.get() + at, source.get(), max_w * sizeof(__nv_bfloat16),
                           cudaMemcpyDeviceToDevice));
    }
  }
  for (int m : {64, 128, 256, 384, 512, 2048, 8192, 16384}) {
    for (const Shape& s : shapes) {
      if (s.output == kernels::GemmOutput::kF32 && m > 512) continue;  // logits: sampling rows
      const size_t w_elems = static_cast<size_t>(s.n) * s.k;
      const int copies = static_cast<int>(std::min<size_t>(32, w.size() / w_elems));
      char shape[64];
      std::snprintf(shape, sizeof(shape), "m%d %s %dx%d", m, s.name, s.n, s.k);
      const double flops = 2.0 * m * s.n * s.k;
      // The heuristic's answer and the measured choice, each re-timed with rotated weights.
      std::unique_ptr<kernels::GemmContext> heuristic, tuned;
      GPU_CHECK(kernels::GemmContext::Create(64 << 20, &heuristic));
      GPU_CHECK(kernels::GemmContext::Create(64 << 20, &tuned, kernels::GemmTuning{16, kMaxM}));
      const double h_ms = RotatedMs(heuristic.get(), x, w, w_elems, copies, y.get(), m, s);
      const double t_ms = RotatedMs(tuned.get(), x, w, w_elems, copies, y.get(), m, s);
      const std::vector<kernels::GemmTuningRecord> records = tuned->tuning_records();
      const int chosen = records.empty() ? 0 : records[0].chosen;
      Report("gemm_tuned_tflops", std::string(shape) + " #" + std::to_string(chosen),
             flops / t_ms / 1e9, "TFLOP/s", flops / h_ms / 1e9, "heuristic");
    }
  }
  Report("gemm_peak_anchor", "bf16 dense", kGemmPeak / 1e12, "TFLOP/s", kGemmPeak / 1e12, "anchor");
}

}  // namespace stride::testing::gpu
