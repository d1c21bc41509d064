// Kernel-tier figures: GEMM TFLOP/s, paged decode attention bandwidth, paged prefill attention
// TFLOP/s (PyTorch SDPA is measured by run.sh's script in the same session for comparison).
#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <random>

#include "kernels/attention/paged_attention.h"
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
  const double bytes = 2.0 * (static_cast<double>(m) * k + static_cast<double>(n) * k +
                              static_cast<double>(m) * n);
  const double floor_ms = std::max(flops / kGemmPeak, bytes / kBandwidth) * 1e3;
  const std::string shape = std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
  Report("gemm_bf16_ms", shape, ms, "ms", floor_ms, "floor");
  Report("gemm_bf16_tflops", shape, flops / ms / 1e9, "TFLOP/s", kGemmPeak / 1e12, "anchor");
}

struct PagedCache {
  std::unique_ptr<DeviceArray<__nv_bfloat16>> k, v;
  std::unique_ptr<DeviceArray<int32_t>> tables;
  int width = 0;
};

PagedCache MakeCache(int num_seqs, int context, int kv_heads, int head_dim, int block_size,
                     std::mt19937& rng) {
  PagedCache c;
  c.width = (context + block_size - 1) / block_size;
  const int num_blocks = 1 + num_seqs * c.width;
  const size_t elems = static_cast<size_t>(num_blocks) * block_size * kv_heads * head_dim;
  // Random bf16 bits of moderate magnitude, generated on the host once per cache.
  std::vector<__nv_bfloat16> values(elems);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (size_t i = 0; i < elems; i += 4099) {
    const __nv_bfloat16 v = __float2bfloat16(dist(rng));
    for (size_t j = i; j < std::min(elems, i + 4099); ++j) values[j] = v;
  }
  c.k = std::make_unique<DeviceArray<__nv_bfloat16>>(values);
  c.v = std::make_unique<DeviceArray<__nv_bfloat16>>(values);
  std::vector<int32_t> blocks(num_blocks - 1);
  std::iota(blocks.begin(), blocks.end(), 1);
  std::shuffle(blocks.begin(), blocks.end(), rng);
  c.tables = std::make_unique<DeviceArray<int32_t>>(blocks);
  return c;
}

void DecodeAttentionBench(int num_seqs, int context, int tile_keys = 0, int warps = 0,
                          int splits = 0) {
  constexpr int kHeads = 32, kKvHeads = 8, kDim = 128, kBlock = 16;
  std::mt19937 rng(FreshSeed());
  PagedCache cache = MakeCache(num_seqs, context, kKvHeads, kDim, kBlock, rng);
  DeviceArray<__nv_bfloat16> q(ToBf16(RandomBf16Values(static_cast<size_t>(num_seqs) * kHeads * kDim, 1.0f, rng)));
  DeviceArray<__nv_bfloat16> out(q.size());
  DeviceArray<int32_t> lens(std::vector<int32_t>(num_seqs, context));
  int sms = 0;
  GPU_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  kernels::PagedDecodeParams p;
  p.q = q.get();
  p.out = out.get();
  p.k_cache = cache.k->get();
  p.v_cache = cache.v->get();
  p.block_tables = cache.tables->get();
  p.max_blocks_per_seq = cache.width;
  p.context_lens = lens.get();
  p.num_seqs = num_seqs;
  p.num_heads = kHeads;
  p.num_kv_heads = kKvHeads;
  p.head_dim = kDim;
  p.block_size = kBlock;
  p.scale = 1.0f / std::sqrt(static_cast<float>(kDim));
  p.num_splits = splits > 0 ? splits
                           : kernels::ChoosePagedDecodeSplits(num_seqs, kKvHeads, context, sms);
  p.tile_keys = tile_keys;
  p.warps = warps;
  DeviceArray<char> workspace(
      std::max<size_t>(1, kernels::PagedDecodeWorkspaceBytes(num_seqs, kHeads, kDim, p.num_splits)));
  p.workspace = workspace.get();
  const double ms = MedianMs([&] { GPU_CHECK(kernels::LaunchPagedDecode(p, nullptr)); });
  const double bytes = 2.0 * num_seqs * context * kKvHeads * kDim * 2;
  const std::string shape = "B" + std::to_string(num_seqs) + " ctx" + std::to_string(context) +
                            " 32/8 d128 splits" + std::to_string(p.num_splits) +
                            (tile_keys > 0 ? " tile" + std::to_string(tile_keys) + "x" +
                                                 std::to_string(warps)
                                           : "");
  Report("decode_attn_TBps", shape, bytes / ms / 1e9, "TB/s", kBandwidth / 1e12, "copy");
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
  const double ms = MedianMs([&] { GPU_CHECK(kernels::LaunchPagedPrefill(p, nullptr)); }, 2, 10);
  const double flops = 4.0 * num_seqs * static_cast<double>(seq_len) * seq_len / 2 * kHeads * kDim;
  const std::string shape = "B" + std::to_string(num_seqs) + " S" + std::to_string(seq_len) +
                            " causal 32/8 d128";
  Report("prefill_attn_tflops", shape, flops / ms / 1e9, "TFLOP/s", kGemmPeak / 1e12, "gemm");
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
  DecodeAttentionBench(64, 4096);
  for (auto [keys, warps] : {std::pair{32, 4}, {16, 4}, {16, 8}, {32, 2}}) {
    DecodeAttentionBench(64, 4096, keys, warps);
    DecodeAttentionBench(64, 4096, keys, warps, 2);
    DecodeAttentionBench(256, 1024, keys, warps);
  }
  DecodeAttentionBench(8, 4096);
  DecodeAttentionBench(1, 32768);
  PrefillAttentionBench(2048, 16384);
  PrefillAttentionBench(8192, 16384);
  PrefillAttentionBench(32768, 32768);
}

}  // namespace stride::testing::gpu
