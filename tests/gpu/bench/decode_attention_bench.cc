// Paged decode attention: bandwidth (K + V bytes over time) against the 4.28 TB/s copy floor for
// batched shapes, and the batch-1 step's latency (32 layers of 1024 keys, one launch per layer,
// in a CUDA graph) against its byte floor; tile, split, split-merge and PDL variants at B64 x 4k,
// B256 x 1k / 2k, B128 x 2k, B8 x 4k and B1 x 32k.
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/attention/paged_attention.h"
#include "kernels/common/pdl.h"
#include "tests/gpu/bench/bench_util.h"
#include "tests/gpu/bench/paged_cache.h"

namespace stride::testing::gpu {
namespace {

constexpr double kBandwidth = 4.28e12;
constexpr int kHeads = 32, kKvHeads = 8, kDim = 128, kBlock = 16;
constexpr int kMaxSplits = 32;

struct Variant {
  int tile_keys = 0, warps = 0;  // 0: the default tiling
  int splits = 0;                // 0: ChoosePagedDecodeSplits
  bool fused = true;             // splits merged in the decode launch (split counters)
  bool l2_prefetch = true;       // first K/V tile prefetched into L2 before the PDL wait
};

// Inputs of one shape: a cache per layer, queries, output, and workspace and split counters for
// up to kMaxSplits splits.
struct Shape {
  Shape(int seqs, int context_len, int num_layers, std::mt19937& rng)
      : num_seqs(seqs),
        context(context_len),
        q(ToBf16(RandomBf16Values(static_cast<size_t>(seqs) * kHeads * kDim, 1.0f, rng))),
        out(q.size()),
        lens(std::vector<int32_t>(seqs, context_len)),
        counters(std::vector<int32_t>(static_cast<size_t>(seqs) * kKvHeads, 0)),
        workspace(kernels::PagedDecodeWorkspaceBytes(seqs, kHeads, kDim, kMaxSplits)) {
    for (int l = 0; l < num_layers; ++l) {
      layers.push_back(MakeCache(seqs, context_len, kKvHeads, kDim, kBlock, rng));
    }
    GPU_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  }

  kernels::PagedDecodeParams Params(const Variant& v, int layer = 0) const {
    kernels::PagedDecodeParams p;
    p.q = q.get();
    p.out = out.get();
    p.k_cache = layers[layer].k->get();
    p.v_cache = layers[layer].v->get();
    p.block_tables = layers[layer].tables->get();
    p.max_blocks_per_seq = layers[layer].width;
    p.context_lens = lens.get();
    p.num_seqs = num_seqs;
    p.num_heads = kHeads;
    p.num_kv_heads = kKvHeads;
    p.head_dim = kDim;
    p.block_size = kBlock;
    p.scale = 1.0f / std::sqrt(static_cast<float>(kDim));
    p.num_splits = v.splits > 0
                       ? v.splits
                       : kernels::ChoosePagedDecodeSplits(num_seqs, kKvHeads, context, sms);
    p.workspace = workspace.get();
    p.split_counters = v.fused ? counters.get() : nullptr;
    p.tile_keys = v.tile_keys;
    p.warps = v.warps;
    p.l2_prefetch = v.l2_prefetch;
    return p;
  }

  std::string Describe(const Variant& v, const kernels::PagedDecodeParams& p) const {
    const std::string tile =
        v.tile_keys > 0 ? absl::StrCat(" tile", v.tile_keys, "x", v.warps) : std::string();
    return absl::StrCat("B", num_seqs, " ctx", context, " splits", p.num_splits, tile,
                        v.fused ? "" : " merge-kernel", v.l2_prefetch ? "" : " no-prefetch");
  }

  double KvBytesPerLayer() const { return 2.0 * num_seqs * context * kKvHeads * kDim * 2; }

  int num_seqs, context, sms = 0;
  std::vector<PagedCache> layers;
  DeviceArray<__nv_bfloat16> q, out;
  DeviceArray<int32_t> lens, counters;
  DeviceArray<char> workspace;
};

void Bandwidth(const Shape& shape, const Variant& v) {
  const kernels::PagedDecodeParams p = shape.Params(v);
  const double ms = MedianMs([&] { GPU_CHECK(kernels::LaunchPagedDecode(p, nullptr)); });
  Report("decode_attn_TBps", shape.Describe(v, p) + " 32/8 d128",
         shape.KvBytesPerLayer() / ms / 1e9, "TB/s", kBandwidth / 1e12, "copy");
}

// One launch per layer, captured in a graph (as the runner replays a step), PDL on or off;
// median ms per replay of all layers.
void LayersInGraph(const Shape& shape, const Variant& v, bool pdl) {
  cudaStream_t stream;
  GPU_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  kernels::SetPdlEnabled(pdl);
  cudaGraph_t graph;
  GPU_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  for (size_t l = 0; l < shape.layers.size(); ++l) {
    GPU_CHECK(kernels::LaunchPagedDecode(shape.Params(v, static_cast<int>(l)), stream));
  }
  GPU_CHECK(cudaStreamEndCapture(stream, &graph));
  kernels::SetPdlEnabled(true);
  cudaGraphExec_t exec;
  GPU_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  GPU_CHECK(cudaGraphDestroy(graph));
  const double ms = MedianMs([&] { GPU_CHECK(cudaGraphLaunch(exec, nullptr)); });
  GPU_CHECK(cudaGraphExecDestroy(exec));
  GPU_CHECK(cudaStreamDestroy(stream));
  const kernels::PagedDecodeParams p = shape.Params(v);
  const double floor_ms = shape.layers.size() * shape.KvBytesPerLayer() / kBandwidth * 1e3;
  Report("decode_attn_layers_ms",
         shape.Describe(v, p) + " x" + std::to_string(shape.layers.size()) + (pdl ? "" : " no-pdl"),
         ms, "ms", floor_ms, "floor");
}

}  // namespace

void RunDecodeAttentionBenchmarks() {
  std::mt19937 rng(FreshSeed());
  {
    // The batch-1 step of Llama-3.1-8B at 1024 keys: 32 layers, each its own cache (128 MB in
    // all, beyond L2). The round-4 configuration first (16x4, 8 splits, merge kernel, no PDL).
    const Shape b1(1, 1024, 32, rng);
    LayersInGraph(b1, {16, 4, 8, false}, false);
    LayersInGraph(b1, {0, 0, 0, false}, true);
    LayersInGraph(b1, {0, 0, 0, true}, false);
    LayersInGraph(b1, {0, 0, 0, true}, true);
    LayersInGraph(b1, {0, 0, 0, true, false}, true);
    LayersInGraph(b1, {16, 4, 16}, true);
  }
  {
    const Shape b64(64, 4096, 1, rng);
    Bandwidth(b64, {});
    for (int splits : {2, 3}) {
      Bandwidth(b64, {0, 0, splits, false});
      Bandwidth(b64, {0, 0, splits});
    }
    Bandwidth(b64, {0, 0, 4});
    Bandwidth(b64, {32, 4, 3});
    Bandwidth(b64, {16, 8, 3});
  }
  {
    const Shape b256(256, 1024, 1, rng);
    Bandwidth(b256, {});
    Bandwidth(b256, {0, 0, 2});
  }
  {
    const Shape b256(256, 2048, 1, rng);
    Bandwidth(b256, {});
    Bandwidth(b256, {0, 0, 2});
  }
  {
    const Shape b128(128, 2048, 1, rng);
    Bandwidth(b128, {});
    Bandwidth(b128, {0, 0, 3});
  }
  {
    const Shape b8(8, 4096, 1, rng);
    Bandwidth(b8, {});
    Bandwidth(b8, {0, 0, 5});
  }
  {
    const Shape b1(1, 32768, 1, rng);
    Bandwidth(b1, {});
    Bandwidth(b1, {0, 0, 0, false});
  }
}

}  // namespace stride::testing::gpu
