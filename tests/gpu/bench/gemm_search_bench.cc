// Exhaustive cuBLASLt search over the decode projections' shapes (`--gemm-search`). The runner
// takes cuBLASLt's first heuristic answer, and timing the heuristic's first 16 answers found
// nothing faster (kernels/NOTES.md round 10); but at m = 384 qkv and o reach only 400-520 of 855
// TFLOP/s, because 96-144 output tiles land on 132 SMs. This asks whether a configuration the
// heuristic never proposes (another tile shape, split-K, a cluster shape) does better: every
// algorithm id cuBLASLt lists for bf16 x bf16 -> bf16 with fp32 compute, every tile and stage
// count it supports, split-K 1/2/4 and two cluster shapes; each configuration that
// cublasLtMatmulAlgoCheck accepts is run once against the heuristic's output (relative difference
// at most 2e-2, else it is not counted), timed on 32 rotated weight copies (not served from L2),
// and the fastest are re-timed. The figure is the best configuration's TFLOP/s next to the
// heuristic's, with the configuration printed.
#include <cublasLt.h>
#include <cuda_bf16.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "tests/gpu/bench/bench_util.h"

namespace stride::testing::gpu {
namespace {

constexpr double kGemmPeak = 855e12;
constexpr int kHidden = 4096, kFfn = 14336, kQkv = 6144;
constexpr size_t kWorkspaceBytes = size_t{64} << 20;  // the runner's (kGemmWorkspaceBytes)
constexpr int kMaxTimed = 4000;                       // configurations timed per shape, at most

#define LT_CHECK(expr)                                                                 \
  do {                                                                                 \
    const cublasStatus_t s_ = (expr);                                                  \
    if (s_ != CUBLAS_STATUS_SUCCESS) {                                                 \
      std::fprintf(stderr, "%s:%d: %s: cuBLAS status %d\n", __FILE__, __LINE__, #expr, \
                   static_cast<int>(s_));                                              \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

struct Shape {
  const char* name;
  int n, k;
};

// y[m, n] = x[m, k] w[n, k]^T laid out as kernels/gemm/gemm.cc does (column-major
// y^T = op_T(w) x^T), so what wins here wins there.
struct Problem {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  Problem(int m, int n, int k) {
    const cublasOperation_t trans_a = CUBLAS_OP_T, trans_b = CUBLAS_OP_N;
    LT_CHECK(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    LT_CHECK(
        cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &trans_a, sizeof(trans_a)));
    LT_CHECK(
        cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &trans_b, sizeof(trans_b)));
    LT_CHECK(cublasLtMatrixLayoutCreate(&a, CUDA_R_16BF, k, n, k));
    LT_CHECK(cublasLtMatrixLayoutCreate(&b, CUDA_R_16BF, k, m, k));
    LT_CHECK(cublasLtMatrixLayoutCreate(&c, CUDA_R_16BF, n, m, n));
  }
  ~Problem() {
    cublasLtMatrixLayoutDestroy(c);
    cublasLtMatrixLayoutDestroy(b);
    cublasLtMatrixLayoutDestroy(a);
    cublasLtMatmulDescDestroy(op);
  }
};

struct Candidate {
  cublasLtMatmulAlgo_t algo;
  double ms = 0;
};

template <typename T>
T ConfigOf(const cublasLtMatmulAlgo_t& algo, cublasLtMatmulAlgoConfigAttributes_t attr) {
  T value{};
  size_t written = 0;
  cublasLtMatmulAlgoConfigGetAttribute(&algo, attr, &value, sizeof(value), &written);
  return value;
}

std::string Describe(const cublasLtMatmulAlgo_t& algo) {
  char text[160];
  std::snprintf(
      text, sizeof(text),
      "algo %d tile %u stages %u split-k %d reduction %u swizzle %u "
      "custom %u cluster %u",
      ConfigOf<int32_t>(algo, CUBLASLT_ALGO_CONFIG_ID),
      ConfigOf<uint32_t>(algo, CUBLASLT_ALGO_CONFIG_TILE_ID),
      ConfigOf<uint32_t>(algo, CUBLASLT_ALGO_CONFIG_STAGES_ID),
      ConfigOf<int32_t>(algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM),
      ConfigOf<uint32_t>(algo, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME),
      ConfigOf<uint32_t>(algo, CUBLASLT_ALGO_CONFIG_CTA_SWIZZLING),
      ConfigOf<uint32_t>(algo, CUBLASLT_ALGO_CONFIG_CUSTOM_OPTION),
      static_cast<unsigned>(ConfigOf<uint16_t>(algo, CUBLASLT_ALGO_CONFIG_CLUSTER_SHAPE_ID)));
  return text;
}

// A capability list (tile or stage ids); {0} ("undefined": the algorithm's own) when it has none.
std::vector<uint32_t> CapIds(const cublasLtMatmulAlgo_t& algo,
                             cublasLtMatmulAlgoCapAttributes_t cap) {
  size_t bytes = 0;
  if (cublasLtMatmulAlgoCapGetAttribute(&algo, cap, nullptr, 0, &bytes) != CUBLAS_STATUS_SUCCESS ||
      bytes == 0) {
    return {0};
  }
  std::vector<uint32_t> ids(bytes / sizeof(uint32_t));
  cublasLtMatmulAlgoCapGetAttribute(&algo, cap, ids.data(), bytes, &bytes);
  return ids.empty() ? std::vector<uint32_t>{0} : ids;
}

// Stage counts tried: the algorithm's own choice and the two deepest it lists (all of them would
// multiply the configurations by ~10 for little: the stage count moves a kernel by a few percent).
std::vector<uint32_t> StageChoices(const cublasLtMatmulAlgo_t& algo) {
  std::vector<uint32_t> listed = CapIds(algo, CUBLASLT_ALGO_CAP_STAGES_IDS);
  std::vector<uint32_t> choices = {CUBLASLT_MATMUL_STAGES_UNDEFINED};
  for (size_t i = listed.size() >= 2 ? listed.size() - 2 : 0; i < listed.size(); ++i) {
    if (listed[i] != CUBLASLT_MATMUL_STAGES_UNDEFINED) choices.push_back(listed[i]);
  }
  return choices;
}

int CapInt(const cublasLtMatmulAlgo_t& algo, cublasLtMatmulAlgoCapAttributes_t cap) {
  int32_t value = 0;
  size_t written = 0;
  cublasLtMatmulAlgoCapGetAttribute(&algo, cap, &value, sizeof(value), &written);
  return value;
}

// Every configuration of every listed algorithm that cublasLtMatmulAlgoCheck accepts for `p`.
std::vector<cublasLtMatmulAlgo_t> Enumerate(cublasLtHandle_t handle, const Problem& p) {
  int ids[512];
  int num_ids = 0;
  LT_CHECK(cublasLtMatmulAlgoGetIds(handle, CUBLAS_COMPUTE_32F, CUDA_R_32F, CUDA_R_16BF,
                                    CUDA_R_16BF, CUDA_R_16BF, CUDA_R_16BF, 512, ids, &num_ids));
  std::vector<cublasLtMatmulAlgo_t> accepted;
  for (int i = 0; i < num_ids; ++i) {
    cublasLtMatmulAlgo_t base;
    if (cublasLtMatmulAlgoInit(handle, CUBLAS_COMPUTE_32F, CUDA_R_32F, CUDA_R_16BF, CUDA_R_16BF,
                               CUDA_R_16BF, CUDA_R_16BF, ids[i], &base) != CUBLAS_STATUS_SUCCESS) {
      continue;
    }
    const bool split_k = CapInt(base, CUBLASLT_ALGO_CAP_SPLITK_SUPPORT) != 0;
    const int reductions = CapInt(base, CUBLASLT_ALGO_CAP_REDUCTION_SCHEME_MASK);
    const uint32_t reduction = (reductions & CUBLASLT_REDUCTION_SCHEME_INPLACE) != 0
                                   ? CUBLASLT_REDUCTION_SCHEME_INPLACE
                               : (reductions & CUBLASLT_REDUCTION_SCHEME_OUTPUT_TYPE) != 0
                                   ? CUBLASLT_REDUCTION_SCHEME_OUTPUT_TYPE
                                   : CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE;
    for (uint32_t tile : CapIds(base, CUBLASLT_ALGO_CAP_TILE_IDS)) {
      for (uint32_t stages : StageChoices(base)) {
        for (int32_t splits : {1, 2, 4}) {
          if (splits > 1 && !split_k) continue;
          for (uint16_t cluster :
               {uint16_t{CUBLASLT_CLUSTER_SHAPE_AUTO}, uint16_t{CUBLASLT_CLUSTER_SHAPE_1x1x1}}) {
            cublasLtMatmulAlgo_t algo = base;
            const uint32_t scheme =
                splits > 1 ? reduction : uint32_t{CUBLASLT_REDUCTION_SCHEME_NONE};
            cublasLtMatmulAlgoConfigSetAttribute(&algo, CUBLASLT_ALGO_CONFIG_TILE_ID, &tile,
                                                 sizeof(tile));
            cublasLtMatmulAlgoConfigSetAttribute(&algo, CUBLASLT_ALGO_CONFIG_STAGES_ID, &stages,
                                                 sizeof(stages));
            cublasLtMatmulAlgoConfigSetAttribute(&algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM, &splits,
                                                 sizeof(splits));
            cublasLtMatmulAlgoConfigSetAttribute(&algo, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME,
                                                 &scheme, sizeof(scheme));
            cublasLtMatmulAlgoConfigSetAttribute(&algo, CUBLASLT_ALGO_CONFIG_CLUSTER_SHAPE_ID,
                                                 &cluster, sizeof(cluster));
            cublasLtMatmulHeuristicResult_t result{};
            if (cublasLtMatmulAlgoCheck(handle, p.op, p.a, p.b, p.c, p.c, &algo, &result) ==
                    CUBLAS_STATUS_SUCCESS &&
                result.workspaceSize <= kWorkspaceBytes) {
              accepted.push_back(algo);
            }
          }
        }
      }
    }
  }
  return accepted;
}

}  // namespace

void RunGemmSearch() {
  std::mt19937 rng(FreshSeed());
  const Shape shapes[] = {{"qkv", kQkv, kHidden},
                          {"o", kHidden, kHidden},
                          {"gate_up", 2 * kFfn, kHidden},
                          {"down", kHidden, kFfn}};
  constexpr int kMaxM = 512;
  cublasLtHandle_t handle;
  LT_CHECK(cublasLtCreate(&handle));
  DeviceArray<char> workspace(kWorkspaceBytes);
  DeviceArray<__nv_bfloat16> x(ToBf16(RandomBf16Values(size_t{kMaxM} * kFfn, 1.0f, rng)));
  DeviceArray<__nv_bfloat16> y(size_t{kMaxM} * 2 * kFfn), y_ref(size_t{kMaxM} * 2 * kFfn);
  const size_t max_w = size_t{2} * kFfn * kHidden;
  constexpr size_t kWeightBytes = size_t{4} << 30;  // 32 copies of a projection, past L2
  DeviceArray<__nv_bfloat16> w(kWeightBytes / sizeof(__nv_bfloat16));
  {
    DeviceArray<__nv_bfloat16> source(ToBf16(RandomBf16Values(max_w, 0.05f, rng)));
    for (size_t at = 0; at + max_w <= w.size(); at += max_w) {
      GPU_CHECK(cudaMemcpy(w.get() + at, source.get(), max_w * sizeof(__nv_bfloat16),
                           cudaMemcpyDeviceToDevice));
    }
  }
  const float alpha = 1.0f, beta = 0.0f;
  for (int m : {256, 384, 512}) {
    for (const Shape& s : shapes) {
      const Problem p(m, s.n, s.k);
      const size_t w_elems = static_cast<size_t>(s.n) * s.k;
      const int copies = static_cast<int>(std::min<size_t>(32, w.size() / w_elems));
      int next = 0;
      auto run = [&](const cublasLtMatmulAlgo_t& algo, __nv_bfloat16* out, bool rotate) {
        const __nv_bfloat16* weights = w.get() + (rotate ? static_cast<size_t>(next) * w_elems : 0);
        next = (next + 1) % copies;
        return cublasLtMatmul(handle, p.op, &alpha, weights, p.a, x.get(), p.b, &beta, out, p.c,
                              out, p.c, &algo, workspace.get(), kWorkspaceBytes, nullptr);
      };
      auto median_ms = [&](const cublasLtMatmulAlgo_t& algo, int iterations) {
        return MedianMs([&] { LT_CHECK(run(algo, y.get(), true)); }, 1, iterations);
      };

      // The heuristic's first answer, as the runner takes it: the reference output and time.
      cublasLtMatmulPreference_t preference;
      LT_CHECK(cublasLtMatmulPreferenceCreate(&preference));
      LT_CHECK(cublasLtMatmulPreferenceSetAttribute(preference,
                                                    CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                    &kWorkspaceBytes, sizeof(kWorkspaceBytes)));
      cublasLtMatmulHeuristicResult_t heuristic{};
      int found = 0;
      LT_CHECK(cublasLtMatmulAlgoGetHeuristic(handle, p.op, p.a, p.b, p.c, p.c, preference, 1,
                                              &heuristic, &found));
      cublasLtMatmulPreferenceDestroy(preference);
      LT_CHECK(run(heuristic.algo, y_ref.get(), false));
      // Output rows compared: both ends and the middle (tile edges in m; every n column).
      const std::vector<int> rows = {0, 1, m / 2, m - 2, m - 1};
      auto sample = [&](const __nv_bfloat16* out) {
        std::vector<__nv_bfloat16> host(rows.size() * s.n);
        for (size_t r = 0; r < rows.size(); ++r) {
          GPU_CHECK(cudaMemcpy(host.data() + r * s.n, out + static_cast<size_t>(rows[r]) * s.n,
                               s.n * sizeof(host[0]), cudaMemcpyDeviceToHost));
        }
        std::vector<float> values(host.size());
        for (size_t i = 0; i < host.size(); ++i) values[i] = __bfloat162float(host[i]);
        return values;
      };
      const std::vector<float> reference = sample(y_ref.get());
      float scale = 0;
      for (float v : reference) scale = std::max(scale, std::fabs(v));
      const double heuristic_ms = median_ms(heuristic.algo, 20);

      // Every accepted configuration: run once and compared, timed briefly, the best re-timed.
      std::vector<cublasLtMatmulAlgo_t> configs = Enumerate(handle, p);
      const size_t listed = configs.size();
      if (configs.size() > size_t{kMaxTimed}) configs.resize(kMaxTimed);
      std::vector<Candidate> timed;
      int failed = 0, wrong = 0;
      const size_t out_bytes = static_cast<size_t>(m) * s.n * sizeof(__nv_bfloat16);
      for (const cublasLtMatmulAlgo_t& algo : configs) {
        GPU_CHECK(cudaMemset(y.get(), 0xff, out_bytes));  // NaN: a run that writes nothing fails
        if (run(algo, y.get(), false) != CUBLAS_STATUS_SUCCESS ||
            cudaDeviceSynchronize() != cudaSuccess) {
          cudaGetLastError();
          ++failed;
          continue;
        }
        const std::vector<float> values = sample(y.get());
        float worst = 0;
        bool finite = true;
        for (size_t i = 0; i < values.size(); ++i) {
          finite = finite && std::isfinite(values[i]);
          worst = std::max(worst, std::fabs(values[i] - reference[i]));
        }
        if (!finite || !(worst <= 2e-2f * scale)) {
          ++wrong;
          continue;
        }
        timed.push_back({algo, median_ms(algo, 3)});
      }
      std::sort(timed.begin(), timed.end(),
                [](const Candidate& a, const Candidate& b) { return a.ms < b.ms; });
      if (timed.size() > 8) timed.resize(8);
      for (Candidate& c : timed) c.ms = median_ms(c.algo, 20);
      std::sort(timed.begin(), timed.end(),
                [](const Candidate& a, const Candidate& b) { return a.ms < b.ms; });

      const double flops = 2.0 * m * s.n * s.k;
      char shape[96];
      std::snprintf(shape, sizeof(shape), "m%d %s %dx%d, %zu configs", m, s.name, s.n, s.k, listed);
      std::printf(
          "gemm search %s: %zu timed, %d failed to run, %d differ; heuristic %.4f ms "
          "(%s)\n",
          shape, timed.size(), failed, wrong, heuristic_ms, Describe(heuristic.algo).c_str());
      for (size_t i = 0; i < std::min<size_t>(timed.size(), 3); ++i) {
        std::printf("  #%zu %.4f ms %.0f TFLOP/s  %s\n", i + 1, timed[i].ms,
                    flops / timed[i].ms / 1e9, Describe(timed[i].algo).c_str());
      }
      const double best_ms = timed.empty() ? heuristic_ms : std::min(heuristic_ms, timed[0].ms);
      Report("gemm_search_tflops", shape, flops / best_ms / 1e9, "TFLOP/s",
             flops / heuristic_ms / 1e9, "heuristic");
    }
  }
  Report("gemm_peak_anchor", "bf16 dense", kGemmPeak / 1e12, "TFLOP/s", kGemmPeak / 1e12, "anchor");
  cublasLtDestroy(handle);
}

}  // namespace stride::testing::gpu
