// Paged prefill attention TFLOP/s (causal: 2·B·S²·H·D); PyTorch SDPA is measured by run.sh's
// script in the same session for comparison. Each shape runs with a bf16 cache, then with an fp8
// (e4m3) cache over the same queries and block tables: the fp8 row's reference is the bf16 row,
// so its ratio is fp8's speed relative to bf16.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/attention/paged_attention.h"
#include "tests/gpu/bench/bench_util.h"
#include "tests/gpu/bench/paged_cache.h"

namespace stride::testing::gpu {
namespace {

constexpr double kGemmPeak = 855e12;

// Random e4m3 codes of moderate magnitude (no NaN), like MakeCache's bf16 values: one per run of
// 4099 elements.
std::vector<__nv_fp8_e4m3> RandomFp8Cache(size_t elems, std::mt19937& rng) {
  std::vector<__nv_fp8_e4m3> values(elems);
  std::uniform_real_distribution<float> dist(-8.0f, 8.0f);
  for (size_t i = 0; i < elems; i += 4099) {
    const __nv_fp8_e4m3 v(dist(rng));
    for (size_t j = i; j < std::min(elems, i + 4099); ++j) values[j] = v;
  }
  return values;
}

void PrefillAttentionBench(int seq_len, int total_tokens) {
  constexpr int kHeads = 32, kKvHeads = 8, kDim = 128, kBlock = 16;
  const int num_seqs = std::max(1, total_tokens / seq_len);
  std::mt19937 rng(FreshSeed());
  PagedCache cache = MakeCache(num_seqs, seq_len, kKvHeads, kDim, kBlock, rng);
  const size_t tokens = static_cast<size_t>(num_seqs) * seq_len;
  DeviceArray<__nv_bfloat16> q(ToBf16(RandomBf16Values(tokens * kHeads * kDim, 1.0f, rng)));
  DeviceArray<__nv_bfloat16> out(q.size());
  std::vector<int> query_lens(num_seqs, seq_len), context_lens(num_seqs, seq_len);
  std::vector<int32_t> starts;
  for (int s = 0; s <= num_seqs; ++s) starts.push_back(s * seq_len);
  auto work = kernels::PlanPagedPrefill(query_lens, context_lens, kHeads, kKvHeads, 0);
  DeviceArray<int32_t> d_starts(starts);
  DeviceArray<int32_t> d_lens(std::vector<int32_t>(num_seqs, seq_len));
  DeviceArray<kernels::PrefillWorkItem> d_work(work);
  kernels::PagedPrefillParams p;
  p.q = q.get();
  p.out = out.get();
  p.k_cache = cache.k->get();
  p.v_cache = cache.v->get();
  p.block_tables = cache.tables->get();
  p.max_blocks_per_seq = cache.width;
  p.query_start = d_starts.get();
  p.context_lens = d_lens.get();
  p.work = d_work.get();
  p.num_work = static_cast<int>(work.size());
  p.num_heads = kHeads;
  p.num_kv_heads = kKvHeads;
  p.head_dim = kDim;
  p.block_size = kBlock;
  p.scale = 1.0f / std::sqrt(static_cast<float>(kDim));
  const double flops = 4.0 * num_seqs * static_cast<double>(seq_len) * seq_len / 2 * kHeads * kDim;
  const std::string shape = absl::StrCat("B", num_seqs, " S", seq_len, " causal 32/8 d128");
  const double bf16_ms =
      MedianMs([&] { GPU_CHECK(kernels::LaunchPagedPrefill(p, nullptr)); }, 2, 10);
  const double bf16_tflops = flops / bf16_ms / 1e9;
  Report("prefill_attn_tflops", shape, bf16_tflops, "TFLOP/s", kGemmPeak / 1e12, "gemm");

  DeviceArray<__nv_fp8_e4m3> k8(RandomFp8Cache(cache.k->size(), rng));
  DeviceArray<__nv_fp8_e4m3> v8(RandomFp8Cache(cache.v->size(), rng));
  p.k_cache = k8.get();
  p.v_cache = v8.get();
  p.kv_dtype = kernels::DType::kFP8E4M3;
  p.k_scale = 0.05f;
  p.v_scale = 0.125f;
  const double fp8_ms =
      MedianMs([&] { GPU_CHECK(kernels::LaunchPagedPrefill(p, nullptr)); }, 2, 10);
  Report("prefill_attn_tflops", absl::StrCat(shape, " fp8"), flops / fp8_ms / 1e9, "TFLOP/s",
         bf16_tflops, "bf16");
}

}  // namespace

void RunPrefillAttentionBenchmarks() {
  PrefillAttentionBench(2048, 16384);
  PrefillAttentionBench(8192, 16384);
  PrefillAttentionBench(32768, 32768);
}

}  // namespace stride::testing::gpu
