// Paged decode attention bandwidth (K + V bytes over time) against the 4.28 TB/s copy floor.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/attention/paged_attention.h"
#include "tests/gpu/bench/bench_util.h"
#include "tests/gpu/bench/paged_cache.h"

namespace stride::testing::gpu {
namespace {

constexpr double kBandwidth = 4.28e12;

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

}  // namespace

void RunDecodeAttentionBenchmarks() {
  DecodeAttentionBench(64, 4096);
  for (auto [keys, warps] : {std::pair{32, 4}, {16, 4}, {16, 8}, {32, 2}}) {
    DecodeAttentionBench(64, 4096, keys, warps);
    DecodeAttentionBench(64, 4096, keys, warps, 2);
    DecodeAttentionBench(256, 1024, keys, warps);
  }
  DecodeAttentionBench(8, 4096);
  DecodeAttentionBench(1, 32768);
}

}  // namespace stride::testing::gpu
