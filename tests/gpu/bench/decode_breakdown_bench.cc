// Where a batch-1 decode step's device time goes: every op of the Llama-3.1-8B step (32 layers,
// 1024 keys of context) captured 32 times into a CUDA graph over per-layer weights (15 GB in all,
// so nothing is served from L2), replayed, and reported per step next to its byte floor. The
// projections run both ways (cuBLASLt at the runner's old 16-row bucket, and the skinny-GEMM
// kernel at the true row count), plus a skinny-GEMM vs cuBLASLt table at m = 1, 2, 4, 8.
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/activation/silu_and_mul.h"
#include "kernels/attention/paged_attention.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemv.h"
#include "kernels/norm/rms_norm.h"
#include "kernels/rope/rope_kv_cache.h"
#include "kernels/sampling/sampling.h"
#include "tests/gpu/bench/bench_util.h"

namespace stride::testing::gpu {
namespace {

using bf16 = __nv_bfloat16;
constexpr double kBandwidth = 4.28e12;
constexpr int kLayers = 32, kHidden = 4096, kFfn = 14336, kQkv = 6144, kVocab = 128256;
constexpr int kHeads = 32, kKvHeads = 8, kDim = 128, kBlock = 16, kContext = 1024;

// Median ms of one replay of a graph holding `body` (captured on `stream`).
double GraphMs(cudaStream_t stream, const std::function<void()>& body, int iterations = 15) {
  cudaGraph_t graph;
  GPU_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  body();
  GPU_CHECK(cudaStreamEndCapture(stream, &graph));
  cudaGraphExec_t exec;
  GPU_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  GPU_CHECK(cudaGraphDestroy(graph));
  for (int i = 0; i < 2; ++i) GPU_CHECK(cudaGraphLaunch(exec, stream));
  cudaEvent_t start, stop;
  GPU_CHECK(cudaEventCreate(&start));
  GPU_CHECK(cudaEventCreate(&stop));
  std::vector<double> times;
  for (int i = 0; i < iterations; ++i) {
    GPU_CHECK(cudaEventRecord(start, stream));
    GPU_CHECK(cudaGraphLaunch(exec, stream));
    GPU_CHECK(cudaEventRecord(stop, stream));
    GPU_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    GPU_CHECK(cudaEventElapsedTime(&ms, start, stop));
    times.push_back(ms);
  }
  GPU_CHECK(cudaGetLastError());
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  cudaGraphExecDestroy(exec);
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// Fills n bf16 values by tiling a 16 MB random block (device-to-device copies).
void FillRandom(bf16* dst, size_t n, const DeviceArray<bf16>& source) {
  for (size_t at = 0; at < n; at += source.size()) {
    const size_t count = std::min(source.size(), n - at);
    GPU_CHECK(cudaMemcpy(dst + at, source.get(), count * sizeof(bf16), cudaMemcpyDeviceToDevice));
  }
}

struct Weights {
  std::unique_ptr<DeviceArray<bf16>> all;
  bf16 *qkv[kLayers], *o[kLayers], *gate_up[kLayers], *down[kLayers], *lm_head;
  bf16* norm;  // [hidden], shared
};

Weights MakeWeights(std::mt19937& rng) {
  Weights w;
  const size_t per_layer = static_cast<size_t>(kHidden) * (kQkv + kHidden + 2 * kFfn) +
                           static_cast<size_t>(kFfn) * kHidden;
  const size_t total = per_layer * kLayers + static_cast<size_t>(kVocab) * kHidden + kHidden;
  w.all = std::make_unique<DeviceArray<bf16>>(total);
  DeviceArray<bf16> source(ToBf16(RandomBf16Values(8 << 20, 0.05f, rng)));
  FillRandom(w.all->get(), total, source);
  bf16* at = w.all->get();
  for (int l = 0; l < kLayers; ++l) {
    w.qkv[l] = at, at += static_cast<size_t>(kQkv) * kHidden;
    w.o[l] = at, at += static_cast<size_t>(kHidden) * kHidden;
    w.gate_up[l] = at, at += static_cast<size_t>(2 * kFfn) * kHidden;
    w.down[l] = at, at += static_cast<size_t>(kHidden) * kFfn;
  }
  w.lm_head = at, at += static_cast<size_t>(kVocab) * kHidden;
  w.norm = at;
  return w;
}

// One projection y = x w^T through cuBLASLt (rows padded to `gemm_rows`) or the skinny kernel
// (with the 256-byte L2 hint on its weight loads if asked).
void Project(bool gemv, kernels::GemmContext* context, const bf16* x, const bf16* w, void* y, int m,
             int gemm_rows, int n, int k, kernels::GemmOutput out, cudaStream_t s,
             bool l2_256b_hint = false) {
  if (gemv) {
    kernels::GemvParams g;
    g.x = x, g.w = w, g.y = y, g.output = out, g.m = m, g.n = n, g.k = k;
    g.l2_256b_hint = l2_256b_hint;
    GPU_CHECK(kernels::LaunchGemv(g, s));
  } else {
    kernels::GemmParams p;
    p.context = context, p.x = x, p.w = w, p.y = y, p.output = out;
    p.m = gemm_rows, p.n = n, p.k = k;
    GPU_CHECK(kernels::LaunchGemm(p, s));
  }
}

}  // namespace

void RunDecodeBreakdown() {
  std::mt19937 rng(FreshSeed());
  cudaStream_t s;
  GPU_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  std::unique_ptr<kernels::GemmContext> context;
  GPU_CHECK(kernels::GemmContext::Create(64 << 20, &context));
  int sms = 0;
  GPU_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  Weights w = MakeWeights(rng);

  // Activations for up to 16 rows.
  constexpr int kRows = 16;
  DeviceArray<float> residual(ToFloats(ToBf16(RandomBf16Values(kRows * kHidden, 1.0f, rng))));
  DeviceArray<bf16> hidden(ToBf16(RandomBf16Values(kRows * kHidden, 1.0f, rng)));
  DeviceArray<bf16> qkv(ToBf16(RandomBf16Values(kRows * kQkv, 1.0f, rng)));
  DeviceArray<bf16> q(kRows * kHeads * kDim), attn(kRows * kHeads * kDim);
  DeviceArray<bf16> sub(ToBf16(RandomBf16Values(kRows * kHidden, 1.0f, rng)));
  DeviceArray<bf16> gate_up(ToBf16(RandomBf16Values(kRows * 2 * kFfn, 1.0f, rng)));
  DeviceArray<bf16> act(ToBf16(RandomBf16Values(kRows * kFfn, 1.0f, rng)));
  DeviceArray<float> logits(static_cast<size_t>(kRows) * kVocab);
  // KV: per layer its own 64 blocks of K and V (1024 keys), block 0 the null block.
  const int blocks = 1 + kContext / kBlock;
  const size_t kv_layer = static_cast<size_t>(blocks) * kBlock * kKvHeads * kDim;
  DeviceArray<bf16> kv(2 * kv_layer * kLayers);
  {
    DeviceArray<bf16> source(ToBf16(RandomBf16Values(1 << 20, 1.0f, rng)));
    FillRandom(kv.get(), kv.size(), source);
  }
  std::vector<int32_t> table(kContext / kBlock);
  std::iota(table.begin(), table.end(), 1);
  DeviceArray<int32_t> d_table(table), d_len(std::vector<int32_t>{kContext});
  DeviceArray<int32_t> d_pos(std::vector<int32_t>{kContext - 1});
  DeviceArray<int64_t> d_slot(
      std::vector<int64_t>{static_cast<int64_t>(blocks - 1) * kBlock + kBlock - 1});
  std::vector<float> inv(kDim / 2);
  for (int i = 0; i < kDim / 2; ++i) inv[i] = std::pow(500000.0f, -2.0f * i / kDim);
  DeviceArray<float> d_inv(inv);
  DeviceArray<kernels::SampleRowParams> d_rows{std::vector<kernels::SampleRowParams>(kRows)};
  DeviceArray<kernels::SampledToken> d_sampled(kRows);
  const int splits = kernels::ChoosePagedDecodeSplits(1, kKvHeads, kContext, sms);
  DeviceArray<char> workspace(std::max<size_t>(
      1, kernels::PagedDecodeWorkspaceBytes(1, kHeads, kDim, std::max(splits, 32))));

  auto norm = [&](int rows) {
    kernels::FusedAddRmsNormParams p;
    p.residual = residual.get(), p.add = sub.get(), p.weight = w.norm, p.out = hidden.get();
    p.rows = rows, p.dim = kHidden, p.eps = 1e-5f;
    GPU_CHECK(kernels::LaunchFusedAddRmsNorm(p, s));
  };
  auto rope = [&](int l) {
    kernels::RopeKvCacheParams p;
    p.qkv = qkv.get(), p.positions = d_pos.get(), p.inv_freq = d_inv.get();
    p.slot_mapping = d_slot.get(), p.q_out = q.get();
    p.k_cache = kv.get() + 2 * kv_layer * l, p.v_cache = kv.get() + 2 * kv_layer * l + kv_layer;
    p.num_tokens = 1, p.num_heads = kHeads, p.num_kv_heads = kKvHeads, p.head_dim = kDim;
    GPU_CHECK(kernels::LaunchRopeKvCache(p, s));
  };
  auto attention = [&](int l, int num_splits, int keys = 0, int warps = 0) {
    kernels::PagedDecodeParams p;
    p.q = q.get(), p.out = attn.get();
    p.k_cache = kv.get() + 2 * kv_layer * l, p.v_cache = kv.get() + 2 * kv_layer * l + kv_layer;
    p.block_tables = d_table.get(), p.max_blocks_per_seq = kContext / kBlock;
    p.context_lens = d_len.get(), p.num_seqs = 1, p.num_heads = kHeads;
    p.num_kv_heads = kKvHeads, p.head_dim = kDim, p.block_size = kBlock;
    p.scale = 1.0f / std::sqrt(128.0f), p.num_splits = num_splits;
    p.workspace = workspace.get();
    p.tile_keys = keys, p.warps = warps;
    GPU_CHECK(kernels::LaunchPagedDecode(p, s));
  };
  auto silu = [&](int rows) {
    kernels::SiluAndMulParams p;
    p.gate_up = gate_up.get(), p.out = act.get(), p.rows = rows, p.width = kFfn;
    GPU_CHECK(kernels::LaunchSiluAndMul(p, s));
  };
  auto swiglu = [&](int l, int rows) {
    kernels::GemvParams g;
    g.x = hidden.get(), g.w = w.gate_up[l], g.y = act.get(), g.swiglu = true;
    g.m = rows, g.n = 2 * kFfn, g.k = kHidden;
    GPU_CHECK(kernels::LaunchGemv(g, s));
  };
  auto sample = [&](int rows) {
    kernels::SampleParams p;
    p.logits = logits.get(), p.rows_params = d_rows.get(), p.out = d_sampled.get();
    p.rows = rows, p.vocab = kVocab;
    GPU_CHECK(kernels::LaunchSample(p, s));
  };
  const auto bf = kernels::GemmOutput::kBF16;
  const auto f32 = kernels::GemmOutput::kF32;
  auto per_layer = [&](const std::function<void(int)>& op) {
    return GraphMs(s, [&] {
      for (int l = 0; l < kLayers; ++l) op(l);
    });
  };
  auto floor_ms = [](double bytes) { return bytes / kBandwidth * 1e3; };
  const double qkv_b = 2.0 * kQkv * kHidden, o_b = 2.0 * kHidden * kHidden;
  const double gu_b = 2.0 * 2 * kFfn * kHidden, down_b = 2.0 * kFfn * kHidden;
  const double head_b = 2.0 * kVocab * kHidden;
  const double kv_b = 2.0 * kContext * kKvHeads * kDim * 2;

  // Per-op cost of one B1 step (32 layers where the op is per layer).
  struct Row {
    std::string name;
    double ms, floor;
  };
  std::vector<Row> rows;
  auto add = [&](const std::string& name, double ms, double fl) {
    rows.push_back({name, ms, fl});
    Report("b1_step_" + name, "B1 ctx1024, per step (graph)", ms, "ms", fl, "floor");
  };
  for (bool gemv : {false, true}) {
    const std::string tag = gemv ? "gemv_" : "lt16_";
    add(tag + "qkv", per_layer([&](int l) {
          Project(gemv, context.get(), hidden.get(), w.qkv[l], qkv.get(), 1, 16, kQkv, kHidden, bf,
                  s);
        }),
        floor_ms(kLayers * qkv_b));
    add(tag + "o", per_layer([&](int l) {
          Project(gemv, context.get(), attn.get(), w.o[l], sub.get(), 1, 16, kHidden, kHidden, bf,
                  s);
        }),
        floor_ms(kLayers * o_b));
    if (gemv) {
      add(tag + "gate_up_silu", per_layer([&](int l) { swiglu(l, 1); }), floor_ms(kLayers * gu_b));
    } else {
      add(tag + "gate_up", per_layer([&](int l) {
            Project(false, context.get(), hidden.get(), w.gate_up[l], gate_up.get(), 1, 16,
                    2 * kFfn, kHidden, bf, s);
          }),
          floor_ms(kLayers * gu_b));
    }
    add(tag + "down", per_layer([&](int l) {
          Project(gemv, context.get(), act.get(), w.down[l], sub.get(), 1, 16, kHidden, kFfn, bf,
                  s);
        }),
        floor_ms(kLayers * down_b));
    add(tag + "lm_head_f32",
        GraphMs(s,
                [&] {
                  Project(gemv, context.get(), hidden.get(), w.lm_head, logits.get(), 1, 16, kVocab,
                          kHidden, f32, s);
                }),
        floor_ms(head_b));
  }
  add("norm_x2", 2 * per_layer([&](int) { norm(1); }), 0.0);
  add("silu_lt16", per_layer([&](int) { silu(16); }), 0.0);
  add("rope_kv", per_layer(rope), 0.0);
  for (int sp : {splits, 8, 16, 32}) {
    add("attn_splits" + std::to_string(sp), per_layer([&](int l) { attention(l, sp); }),
        floor_ms(kLayers * kv_b));
  }
  for (auto [keys, warps] : {std::pair{32, 4}, {16, 8}, {32, 2}}) {
    add("attn_splits8_tile" + std::to_string(keys) + "x" + std::to_string(warps),
        per_layer([&](int l) { attention(l, 8, keys, warps); }), floor_ms(kLayers * kv_b));
  }
  // One launch outside a graph (events on the same stream), for the graph's share.
  auto stream_ms = [&](const std::function<void()>& fn) {
    cudaEvent_t start, stop;
    GPU_CHECK(cudaEventCreate(&start));
    GPU_CHECK(cudaEventCreate(&stop));
    std::vector<float> times;
    for (int i = 0; i < 23; ++i) {
      GPU_CHECK(cudaEventRecord(start, s));
      fn();
      GPU_CHECK(cudaEventRecord(stop, s));
      GPU_CHECK(cudaEventSynchronize(stop));
      float ms = 0;
      GPU_CHECK(cudaEventElapsedTime(&ms, start, stop));
      if (i >= 3) times.push_back(ms);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    std::sort(times.begin(), times.end());
    return static_cast<double>(times[times.size() / 2]);
  };
  add("attn_single_launch_x32", 32 * stream_ms([&] { attention(0, splits); }), 0.0);
  add("norm_single_launch_x64", 64 * stream_ms([&] { norm(1); }), 0.0);
  add("sample_greedy", GraphMs(s, [&] { sample(1); }), 0.0);
  // The whole step as the runner now issues it (skinny GEMMs, fused SiLU, default splits).
  const double step_ms = GraphMs(s, [&] {
    for (int l = 0; l < kLayers; ++l) {
      norm(1);
      Project(true, nullptr, hidden.get(), w.qkv[l], qkv.get(), 1, 1, kQkv, kHidden, bf, s);
      rope(l);
      attention(l, splits);
      Project(true, nullptr, attn.get(), w.o[l], sub.get(), 1, 1, kHidden, kHidden, bf, s);
      norm(1);
      swiglu(l, 1);
      Project(true, nullptr, act.get(), w.down[l], sub.get(), 1, 1, kHidden, kFfn, bf, s);
    }
    norm(1);
    Project(true, nullptr, hidden.get(), w.lm_head, logits.get(), 1, 1, kVocab, kHidden, f32, s);
    sample(1);
  });
  const double weights_floor =
      floor_ms(kLayers * (qkv_b + o_b + gu_b + down_b) + head_b + kLayers * kv_b);
  Report("b1_step_total_gemv", "B1 ctx1024, whole step (graph)", step_ms, "ms", weights_floor,
         "floor");

  // Skinny GEMM vs cuBLASLt (at the true row count) per shape and m, 32 layers' weights rotated.
  struct Shape {
    const char* name;
    int n, k;
    bf16* const* w;
  };
  const Shape shapes[] = {{"qkv", kQkv, kHidden, w.qkv},
                          {"o", kHidden, kHidden, w.o},
                          {"gate_up", 2 * kFfn, kHidden, w.gate_up},
                          {"down", kHidden, kFfn, w.down}};
  for (int m : {1, 2, 4, 8}) {
    for (const Shape& sh : shapes) {
      const bf16* x = sh.k == kFfn ? act.get() : hidden.get();
      bf16* y = sh.n == 2 * kFfn ? gate_up.get() : sh.n == kQkv ? qkv.get() : sub.get();
      const double fl = floor_ms(kLayers * 2.0 * sh.n * sh.k);
      const std::string shape = absl::StrCat("m", m, " ", sh.name, " x32 layers");
      const double lt = per_layer(
          [&](int l) { Project(false, context.get(), x, sh.w[l], y, m, m, sh.n, sh.k, bf, s); });
      const double gv =
          per_layer([&](int l) { Project(true, nullptr, x, sh.w[l], y, m, m, sh.n, sh.k, bf, s); });
      Report("skinny_cublaslt_ms", shape, lt, "ms", fl, "floor");
      Report("skinny_gemv_ms", shape, gv, "ms", fl, "floor");
      if (m == 1) {  // the loads as before round 13, same run
        const double hinted = per_layer([&](int l) {
          Project(true, nullptr, x, sh.w[l], y, m, m, sh.n, sh.k, bf, s, true);
        });
        Report("skinny_gemv_l2_256b_ms", shape, hinted, "ms", fl, "floor");
      }
    }
  }
  GPU_CHECK(cudaStreamDestroy(s));
}

}  // namespace stride::testing::gpu
