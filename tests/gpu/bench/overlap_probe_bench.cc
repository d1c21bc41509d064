// Can the memory-bound decode attention of one half of a batch and the compute-bound projections
// of the other half run at once on the H200 (nano-batches, NanoFlow-style; kernels/NOTES.md
// round 10 names it the largest lever left for the bf16 offline figure)? One layer of a B384
// decode step split in two halves of 192 sequences: attention over 192 x 1536 keys (bf16, 32/8
// heads, d128, block 16) and the four projections at m = 192 (qkv, o, gate_up, down; cuBLASLt).
// Timed: each alone, both in sequence on one stream, and both launched together on two streams
// (attention first, and projections first). Reported: the concurrent time against the
// sequential sum (1.0: no overlap at all) and against max(attention, projections), the bound.
// `--overlap-probe`.
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/attention/paged_attention.h"
#include "kernels/gemm/gemm.h"
#include "tests/gpu/bench/bench_util.h"
#include "tests/gpu/bench/paged_cache.h"

namespace stride::testing::gpu {
namespace {

constexpr int kSeqs = 192, kContext = 1536;
constexpr int kHeads = 32, kKvHeads = 8, kDim = 128, kBlock = 16;
constexpr int kHidden = 4096, kFfn = 14336, kQkv = 6144;

}  // namespace

void RunOverlapProbe() {
  std::mt19937 rng(FreshSeed());
  int sms = 0;
  GPU_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));

  // Attention inputs for one half-batch.
  const PagedCache cache = MakeCache(kSeqs, kContext, kKvHeads, kDim, kBlock, rng);
  DeviceArray<__nv_bfloat16> q(
      ToBf16(RandomBf16Values(static_cast<size_t>(kSeqs) * kHeads * kDim, 1.0f, rng)));
  DeviceArray<__nv_bfloat16> attn_out(q.size());
  DeviceArray<int32_t> lens(std::vector<int32_t>(kSeqs, kContext));
  const int splits = kernels::ChoosePagedDecodeSplits(kSeqs, kKvHeads, kContext, sms);
  DeviceArray<int32_t> counters(std::vector<int32_t>(static_cast<size_t>(kSeqs) * kKvHeads, 0));
  DeviceArray<char> workspace(
      std::max<size_t>(1, kernels::PagedDecodeWorkspaceBytes(kSeqs, kHeads, kDim, splits)));
  kernels::PagedDecodeParams a;
  a.q = q.get();
  a.out = attn_out.get();
  a.k_cache = cache.k->get();
  a.v_cache = cache.v->get();
  a.block_tables = cache.tables->get();
  a.max_blocks_per_seq = cache.width;
  a.context_lens = lens.get();
  a.num_seqs = kSeqs;
  a.num_heads = kHeads;
  a.num_kv_heads = kKvHeads;
  a.head_dim = kDim;
  a.block_size = kBlock;
  a.scale = 1.0f / std::sqrt(static_cast<float>(kDim));
  a.num_splits = splits;
  a.workspace = workspace.get();
  a.split_counters = splits > 1 ? counters.get() : nullptr;

  // The other half-batch's projections: one layer's four weights (436 MB, past L2).
  std::unique_ptr<kernels::GemmContext> gemm;
  GPU_CHECK(kernels::GemmContext::Create(64 << 20, &gemm));
  DeviceArray<__nv_bfloat16> x(
      ToBf16(RandomBf16Values(static_cast<size_t>(kSeqs) * kFfn, 1.0f, rng)));
  DeviceArray<__nv_bfloat16> y(static_cast<size_t>(kSeqs) * 2 * kFfn);
  struct Projection {
    int n, k;
    std::unique_ptr<DeviceArray<__nv_bfloat16>> w;
  };
  std::vector<Projection> projections;
  for (auto [n, k] : {std::pair{kQkv, kHidden}, {kHidden, kHidden}, {2 * kFfn, kHidden},
                      {kHidden, kFfn}}) {
    projections.push_back({n, k, std::make_unique<DeviceArray<__nv_bfloat16>>(ToBf16(
                                     RandomBf16Values(static_cast<size_t>(n) * k, 0.05f, rng)))});
  }

  cudaStream_t s1, s2;
  GPU_CHECK(cudaStreamCreateWithFlags(&s1, cudaStreamNonBlocking));
  GPU_CHECK(cudaStreamCreateWithFlags(&s2, cudaStreamNonBlocking));
  cudaEvent_t fork, join;
  GPU_CHECK(cudaEventCreateWithFlags(&fork, cudaEventDisableTiming));
  GPU_CHECK(cudaEventCreateWithFlags(&join, cudaEventDisableTiming));
  auto attention = [&](cudaStream_t s) { GPU_CHECK(kernels::LaunchPagedDecode(a, s)); };
  auto project = [&](cudaStream_t s) {
    for (const Projection& p : projections) {
      kernels::GemmParams g;
      g.context = gemm.get();
      g.x = x.get();
      g.w = p.w->get();
      g.y = y.get();
      g.m = kSeqs;
      g.n = p.n;
      g.k = p.k;
      GPU_CHECK(kernels::LaunchGemm(g, s));
    }
  };
  // `first` on s1 and `second` on s2, launched together; s1 waits for s2 at the end.
  auto together = [&](const std::function<void(cudaStream_t)>& first,
                      const std::function<void(cudaStream_t)>& second) {
    return MedianMs(
        [&] {
          GPU_CHECK(cudaEventRecord(fork, s1));
          GPU_CHECK(cudaStreamWaitEvent(s2, fork));
          first(s1);
          second(s2);
          GPU_CHECK(cudaEventRecord(join, s2));
          GPU_CHECK(cudaStreamWaitEvent(s1, join));
        },
        3, 20, s1);
  };

  const double attn_ms = MedianMs([&] { attention(s1); }, 3, 20, s1);
  const double proj_ms = MedianMs([&] { project(s1); }, 3, 20, s1);
  const double serial_ms = MedianMs(
      [&] {
        attention(s1);
        project(s1);
      },
      3, 20, s1);
  const double attn_first_ms = together(attention, project);
  const double proj_first_ms = together(project, attention);
  const double kv_bytes = 2.0 * kSeqs * kContext * kKvHeads * kDim * 2;
  const std::string shape = "B192 ctx1536 attn + m192 projections";
  Report("overlap_attention_alone_ms", "B192 ctx1536 32/8 d128", attn_ms, "ms",
         kv_bytes / 4.28e12 * 1e3, "copy floor");
  Report("overlap_projections_alone_ms", "m192 qkv+o+gate_up+down", proj_ms, "ms",
         2.0 * kSeqs * (kQkv * kHidden + kHidden * kHidden + 2.0 * kFfn * kHidden +
                        kHidden * kFfn) / 855e12 * 1e3,
         "855 TFLOP/s floor");
  Report("overlap_serial_ms", shape + " one stream", serial_ms, "ms", attn_ms + proj_ms,
         "sum alone");
  Report("overlap_concurrent_ms", shape + " attn first", attn_first_ms, "ms", serial_ms,
         "serial");
  Report("overlap_concurrent_ms", shape + " proj first", proj_first_ms, "ms", serial_ms,
         "serial");
  Report("overlap_bound_ms", shape + " max(alone)", std::max(attn_ms, proj_ms), "ms", serial_ms,
         "serial");
  cudaEventDestroy(fork);
  cudaEventDestroy(join);
  cudaStreamDestroy(s1);
  cudaStreamDestroy(s2);
}

}  // namespace stride::testing::gpu
