// Paged decode attention: bandwidth (K + V bytes over time) against the 4.28 TB/s copy floor for
// batched shapes, and the batch-1 step's latency (32 layers of 1024 keys, one launch per layer,
// in a CUDA graph) against its byte floor; tile, split, split-merge and PDL variants at B64 x 4k,
// B256 x 1k / 2k, B128 x 2k, B8 x 4k and B1 x 32k. At B64 x 4k and B256 x 1k / 2k also the fp8
// (e4m3) KV cache: its bytes (1 per element) over time, and its speed-up over the bf16 row just
// measured on the same shape (2x would be the byte ratio).
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <cuda_fp8.h>

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
  bool heads_fastest = false;    // grid (KV head, sequence, split)
  bool tma = false;              // the pool's size given: the TMA kernel where it applies
  int tma_stages = 0;            // its K/V stages per warp (0: the kernel's default)
  int tma_min_ctas = 0;          // PagedDecodeParams::tma_min_ctas
};

// fp8 K and V caches laid out as a PagedCache's (and read through its block tables).
struct Fp8Cache {
  std::unique_ptr<DeviceArray<__nv_fp8_e4m3>> k, v;
};

Fp8Cache MakeFp8Cache(const PagedCache& like, std::mt19937& rng) {
  // Random e4m3 values of moderate magnitude in runs, as MakeCache fills its bf16 caches.
  std::vector<__nv_fp8_e4m3> values(like.k->size());
  std::uniform_real_distribution<float> dist(-8.0f, 8.0f);
  for (size_t i = 0; i < values.size(); i += 4099) {
    const __nv_fp8_e4m3 v(dist(rng));
    std::fill(values.begin() + i, values.begin() + std::min(values.size(), i + 4099), v);
  }
  Fp8Cache c;
  c.k = std::make_unique<DeviceArray<__nv_fp8_e4m3>>(values);
  c.v = std::make_unique<DeviceArray<__nv_fp8_e4m3>>(values);
  return c;
}

// Inputs of one shape: a cache per layer (bf16, and fp8 after AddFp8Caches), queries, output,
// and workspace and split counters for up to kMaxSplits splits.
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

  void AddFp8Caches(std::mt19937& rng) {
    for (const PagedCache& layer : layers) fp8_layers.push_back(MakeFp8Cache(layer, rng));
  }

  kernels::PagedDecodeParams Params(const Variant& v, int layer = 0, bool fp8 = false) const {
    kernels::PagedDecodeParams p;
    p.q = q.get();
    p.out = out.get();
    if (fp8) {
      p.k_cache = fp8_layers[layer].k->get();
      p.v_cache = fp8_layers[layer].v->get();
      p.kv_dtype = kernels::DType::kFP8E4M3;
      p.k_scale = 0.125f;
      p.v_scale = 0.25f;
    } else {
      p.k_cache = layers[layer].k->get();
      p.v_cache = layers[layer].v->get();
    }
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
    p.heads_fastest = v.heads_fastest;
    p.num_cache_blocks = v.tma ? 1 + static_cast<int64_t>(num_seqs) * layers[layer].width : 0;
    p.tma_stages = v.tma_stages;
    p.tma_min_ctas = v.tma_min_ctas;
    p.fp8_tma = v.tma;
    return p;
  }

  std::string Describe(const Variant& v, const kernels::PagedDecodeParams& p) const {
    const std::string tile =
        v.tile_keys > 0 ? absl::StrCat(" tile", v.tile_keys, "x", v.warps) : std::string();
    return absl::StrCat("B", num_seqs, " ctx", context, " splits", p.num_splits, tile,
                        v.fused ? "" : " merge-kernel", v.l2_prefetch ? "" : " no-prefetch",
                        v.heads_fastest ? " heads-fastest" : "",
                        kernels::PagedDecodeUsesTma(p) ? " tma" : "",
                        v.tma_stages > 0 ? absl::StrCat(" ", v.tma_stages, "-stage") : "",
                        p.kv_dtype == kernels::DType::kFP8E4M3 ? " fp8" : "");
  }

  double KvBytesPerLayer(bool fp8 = false) const {
    return 2.0 * num_seqs * context * kKvHeads * kDim * (fp8 ? 1 : 2);
  }

  int num_seqs, context, sms = 0;
  std::vector<PagedCache> layers;
  std::vector<Fp8Cache> fp8_layers;
  DeviceArray<__nv_bfloat16> q, out;
  DeviceArray<int32_t> lens, counters;
  DeviceArray<char> workspace;
};

// One row: K + V bytes (of the cache's type) over the median time; returns the time in ms.
double Bandwidth(const Shape& shape, const Variant& v, bool fp8 = false) {
  const kernels::PagedDecodeParams p = shape.Params(v, 0, fp8);
  const double ms = MedianMs([&] { GPU_CHECK(kernels::LaunchPagedDecode(p, nullptr)); });
  Report("decode_attn_TBps", shape.Describe(v, p) + " 32/8 d128",
         shape.KvBytesPerLayer(fp8) / ms / 1e9, "TB/s", kBandwidth / 1e12, "copy");
  return ms;
}

// The fp8 row of a variant, and its speed-up over the bf16 row of the same variant measured
// just before (bf16_ms) against the byte ratio 2.
void Fp8Bandwidth(const Shape& shape, const Variant& v, double bf16_ms) {
  const double ms = Bandwidth(shape, v, true);
  Report("decode_attn_fp8_speedup", shape.Describe(v, shape.Params(v, 0, true)) + " 32/8 d128",
         bf16_ms / ms, "x bf16", 2.0, "bytes");
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

// The default tiling with the grid ordered heads-fastest, through the cp.async kernel.
Variant HeadsFastest() {
  Variant v;
  v.heads_fastest = true;
  return v;
}

// The default tiling through the TMA kernel (tma_stages K/V stages a warp, 0: its default), at
// the split rule's count (splits 0) or the one given.
Variant Tma(int tma_stages = 0, bool heads_fastest = false, int splits = 0) {
  Variant v;
  v.tma = true;
  v.tma_stages = tma_stages;
  v.heads_fastest = heads_fastest;
  v.splits = splits;
  return v;
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
    Variant tma = Tma();  // 64 CTAs: the runner keeps cp.async; TMA forced for the comparison
    tma.tma_min_ctas = 1;
    LayersInGraph(b1, tma, true);
  }
  {
    Shape b64(64, 4096, 1, rng);
    b64.AddFp8Caches(rng);
    Fp8Bandwidth(b64, {}, Bandwidth(b64, {}));
    // fp8 streams a split's keys in about half the time, so the split rule's fixed cost per CTA
    // (256 keys' worth of bf16) weighs twice: 2 splits instead of the rule's 3.
    Fp8Bandwidth(b64, {0, 0, 2}, Bandwidth(b64, {0, 0, 2}));
    for (int splits : {2, 3}) {
      Bandwidth(b64, {0, 0, splits, false});
      Bandwidth(b64, {0, 0, splits});
    }
    Bandwidth(b64, {0, 0, 4});
    Bandwidth(b64, {32, 4, 3});
    Bandwidth(b64, {16, 8, 3});
    Bandwidth(b64, HeadsFastest());
    Bandwidth(b64, Tma());
    Bandwidth(b64, Tma(3));
    // Heads-fastest (the runner's order), with fp8 through the TMA kernel against it; the split
    // rule was fitted to the cp.async kernel's per-CTA cost, so also the rule's neighbours.
    Fp8Bandwidth(b64, Tma(0, true), Bandwidth(b64, Tma(0, true)));
    Fp8Bandwidth(b64, Tma(0, true, 2), Bandwidth(b64, Tma(0, true, 2)));
    Bandwidth(b64, Tma(0, true, 4));
  }
  for (int context : {1024, 2048}) {
    Shape b256(256, context, 1, rng);
    b256.AddFp8Caches(rng);
    Fp8Bandwidth(b256, {}, Bandwidth(b256, {}));
    Bandwidth(b256, {0, 0, 2});
    Bandwidth(b256, HeadsFastest());
    Bandwidth(b256, Tma());
    Bandwidth(b256, Tma(3));
    Fp8Bandwidth(b256, Tma(0, true), Bandwidth(b256, Tma(0, true)));
    Bandwidth(b256, Tma(3, true), true);
  }
  {
    // The offline run's decode step: 384 sequences at ~1.5k keys.
    const Shape b384(384, 1536, 1, rng);
    Bandwidth(b384, {});
    Bandwidth(b384, HeadsFastest());
    Bandwidth(b384, Tma());
    Bandwidth(b384, Tma(3));
    Bandwidth(b384, Tma(0, true));
  }
  {
    const Shape b128(128, 2048, 1, rng);
    Bandwidth(b128, {});
    Bandwidth(b128, {0, 0, 3});
    Bandwidth(b128, Tma(0, true));
    Bandwidth(b128, Tma(0, true, 2));
  }
  // Grids of one to three CTAs per SM at the split rule's count (256-384 CTAs), where the
  // launcher's TMA threshold (one CTA per SM) was placed: cp.async against TMA, heads-fastest.
  for (auto [seqs, context] : {std::pair{8, 4096}, {4, 4096}, {2, 8192}, {16, 2048}, {1, 32768}}) {
    const Shape shape(seqs, context, 1, rng);
    Bandwidth(shape, HeadsFastest());
    Bandwidth(shape, Tma(0, true));
  }
  {
    const Shape b1(1, 32768, 1, rng);
    Bandwidth(b1, {0, 0, 0, false});  // the split merge as its own kernel
  }
}

}  // namespace stride::testing::gpu
