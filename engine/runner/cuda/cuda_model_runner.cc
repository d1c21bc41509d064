#include "engine/runner/cuda/cuda_model_runner.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "base/status_macros.h"
#include "engine/model/rope_frequencies.h"
#include "engine/runner/cuda/cuda_check.h"
#include "engine/runner/cuda/cuda_weights.h"
#include "engine/runner/cuda/device_buffer.h"
#include "engine/runner/cuda/gpu_sampling.h"
#include "engine/runner/cuda/step_profile.h"
#include "engine/runner/cuda/step_trace.h"
#include "engine/runner/kv_cache_spec.h"
#include "engine/sampling/logprobs.h"
#include "engine/sampling/sampler.h"
#include "kernels/activation/silu_and_mul.h"
#include "kernels/attention/paged_attention.h"
#include "kernels/attention/paged_attention_f32.h"
#include "kernels/embedding/embedding.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemv.h"
#include "kernels/norm/rms_norm.h"
#include "kernels/rope/rope_kv_cache.h"
#include "kernels/sampling/sampling.h"

namespace stride::engine::runner::cuda {
namespace {

using bf16 = __nv_bfloat16;
using scheduler::ScheduledChunk;
using scheduler::SchedulerOutput;
using scheduler::StepOutput;

constexpr size_t kGemmWorkspaceBytes = 64 << 20;

size_t AlignUp(size_t x, size_t a) { return (x + a - 1) / a * a; }

int RoundUpPow2(int x, int floor) {
  int v = floor;
  while (v < x) v *= 2;
  return v;
}

// GEMM row counts: multiples of 16 up to 256, of 128 up to 1024, then of 512. Never above the
// power-of-two capacity (at least 64 rows) the activation and logit buffers are allocated with.
int GemmRowBucket(int m) {
  const int step = m <= 256 ? 16 : m <= 1024 ? 128 : 512;
  return (m + step - 1) / step * step;
}

// Decode batch sizes that get their own CUDA graph.
int GraphBucket(int n) {
  // Past 256, multiples of 128 (GemmRowBucket's step there).
  static constexpr int kBuckets[] = {1,  2,   4,   8,   16,  24,  32,  48, 64,
                                     96, 128, 160, 192, 224, 256, 384, 512};
  for (int b : kBuckets) {
    if (b >= n) return b;
  }
  return RoundUpPow2(n, 256);
}

// One step's batch metadata, packed densely so one copy moves it to the device. Offsets depend
// only on the counts, so a graph captured for (batch, width) finds its data at the same place.
struct StepLayout {
  int num_tokens = 0, num_seqs = 0, num_groups = 0, width = 0, num_rows = 0, num_work = 0;
  size_t slots = 0, token_ids = 0, token_src = 0, positions = 0, rows = 0, query_start = 0,
         context_lens = 0, work = 0, sample_rows = 0, block_tables = 0, total = 0;

  void Compute() {
    size_t o = 0;
    auto take = [&](size_t bytes) {
      const size_t at = o;
      o = AlignUp(o + bytes, 16);
      return at;
    };
    slots = take(sizeof(int64_t) * num_groups * num_tokens);
    token_ids = take(sizeof(int32_t) * num_tokens);
    token_src = take(sizeof(int32_t) * num_tokens);  // -1, or the previous step's sampler row
    positions = take(sizeof(int32_t) * num_tokens);
    rows = take(sizeof(int32_t) * num_rows);
    query_start = take(sizeof(int32_t) * (num_seqs + 1));
    context_lens = take(sizeof(int32_t) * num_seqs);
    work = take(sizeof(kernels::PrefillWorkItem) * num_work);
    sample_rows = take(sizeof(kernels::SampleRowParams) * num_rows);
    block_tables = take(sizeof(int32_t) * num_groups * num_seqs * static_cast<size_t>(width));
    total = o;
  }
};

class CudaModelRunner : public ModelRunner {
 public:
  CudaModelRunner(const model::ModelConfig& config, const model::ModelWeights& weights,
                  const kvcache::KvCacheConfig& kv, const CudaRunnerOptions& options);
  ~CudaModelRunner() override;

  StepOutput Execute(const SchedulerOutput& output) override;
  // Asynchronous scheduling: Launch queues the step on the stream and returns; a decode chunk's
  // input token still in flight is read on the device from the previous step's sampler output.
  // Finish waits for the oldest launched step and turns its results into a StepOutput. Host
  // buffers (metadata staging, sampled tokens, host-sampled logits) alternate between two
  // launches, so one step's copies never overwrite what the other's Finish reads.
  bool SupportsAsyncScheduling() const override { return true; }
  void Launch(const SchedulerOutput& output) override;
  StepOutput Finish() override;

 private:
  struct LogitRow {
    int chunk;
    int row;       // token row in the batch
    bool sample;   // false: a prompt log-prob row
    bool on_host;  // sampled / scored by the CPU sampler from copied logits
  };
  // A launched step whose results Finish has not taken yet.
  struct Launched {
    const SchedulerOutput* output = nullptr;
    std::vector<LogitRow> rows;
    bool use_graph = false;  // logit row r is token row r
    int parity = 0;          // which of the alternating host buffers it uses
    // Host-sampled rows (index in `rows`) sampled early, for the next step's input.
    std::map<int, scheduler::TokenLogprob> host_sampled;
  };
  // Where the step's data sits on the device, and how to run it.
  struct StepView {
    StepLayout layout;
    int num_decode = 0;  // leading sequences with one query token (decode kernel)
    int decode_splits = 1;
    bool gather_rows = true;  // false: logits for every token row (graph path)
  };

  void EnsureActivations(int num_tokens, int num_rows);
  // Sizes every per-step buffer for options_.max_num_seqs / max_num_batched_tokens, when given.
  void ReserveForLimits();
  // The decode kernel's split workspace and counters for `num_decode` rows and `splits`; true
  // when a buffer a graph points at moved.
  bool EnsureDecodeBuffers(int num_decode, int splits);
  void DropGraphs();  // after a buffer a graph points at moved
  // The device sampler row (first) or, for a token sampled on the host, -1 and the token
  // (second) of the token in flight that `request`'s next input is.
  std::pair<int32_t, int32_t> InFlightInput(const scheduler::Request& request);
  void Forward(const StepView& step);
  void Attention(int layer, const StepView& step);
  template <typename T>
  T* Meta(size_t offset) const {
    return reinterpret_cast<T*>(meta_.get<char>() + offset);
  }
  // y = x w^T in the run's dtype (fp32 output for kF32 runs whatever `out` says).
  void Gemm(const void* x, const void* w, void* y, int m, int n, int k,
            kernels::GemmOutput out = kernels::GemmOutput::kBF16);
  bool exact() const { return options_.dtype == kernels::DType::kF32; }
  size_t elem_bytes() const { return kernels::DTypeBytes(options_.dtype); }
  size_t kv_elem_bytes() const { return kernels::DTypeBytes(options_.kv_dtype); }
  // Layer `layer`'s K (or V) cache in the pool.
  void* KvCache(int layer, bool v) const {
    return kv_pool_.get<char>() + (2 * kv_layer_elems_ * layer + (v ? kv_layer_elems_ : 0)) *
                                      static_cast<int64_t>(kv_elem_bytes());
  }
  // act = silu(gate) * up of the fused gate_up projection of `layer`'s input hidden_.
  void GateUpSilu(int layer, int m);

  model::ModelConfig config_;
  kvcache::KvCacheConfig kv_;
  CudaRunnerOptions options_;
  CudaWeights weights_;
  std::vector<int> layer_group_;
  int num_sms_ = 0;
  int qkv_width_ = 0;
  cudaStream_t stream_ = nullptr;
  std::unique_ptr<kernels::GemmContext> gemm_;

  DeviceBuffer kv_pool_;  // per layer: K then V, each [num_blocks, block_size, kv_heads, dim]
  int64_t kv_layer_elems_ = 0;
  DeviceBuffer inv_freq_;
  float attention_scaling_ = 1.0f;

  PinnedBuffer staging_[2];
  DeviceBuffer meta_;
  int token_capacity_ = 0, row_capacity_ = 0;
  DeviceBuffer residual_, hidden_, qkv_, q_, attn_, sublayer_out_, gate_up_, act_, logits_;
  DeviceBuffer sampled_;  // [rows] kernels::SampledToken
  DeviceBuffer decode_workspace_;
  // [decode rows x KV heads] split counters of the fused split merge; zero between launches.
  DeviceBuffer split_counters_;
  PinnedBuffer host_logits_[2], host_sampled_[2];
  cudaEvent_t done_[2] = {nullptr, nullptr};  // recorded after each parity's result copies
  int parity_ = 0;                            // the next launch's host buffers
  std::deque<Launched> launched_;
  // The sampler row (in sampled_) of each request the last launched step sampled for: where
  // the next step reads a decode input that is still in flight.
  absl::flat_hash_map<scheduler::RequestId, int32_t> sample_row_of_;
  StepProfile profile_;
  StepTrace trace_;
  long num_launches_ = 0;

  std::map<std::pair<int, int>, cudaGraphExec_t> graphs_;  // (batch bucket, width) -> graph
};

CudaModelRunner::CudaModelRunner(const model::ModelConfig& config,
                                 const model::ModelWeights& weights,
                                 const kvcache::KvCacheConfig& kv, const CudaRunnerOptions& options)
    : config_(config), kv_(kv), options_(options) {
  STRIDE_CUDA_CHECK(cudaSetDevice(options.device));
  STRIDE_CUDA_CHECK(
      cudaDeviceGetAttribute(&num_sms_, cudaDevAttrMultiProcessorCount, options.device));
  STRIDE_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  for (cudaEvent_t& e : done_) {
    STRIDE_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  }
  kernels::GemmTuning tuning;
  tuning.candidates = options.gemm_candidates;
  tuning.max_rows = options.gemm_tuned_max_rows;
  STRIDE_CUDA_CHECK(kernels::GemmContext::Create(kGemmWorkspaceBytes, &gemm_, tuning));
  weights_ = UploadWeights(config, weights, options_.dtype);
  for (int layer = 0; layer < config.num_layers; ++layer) {
    layer_group_.push_back(GroupOfLayer(kv, layer));
  }
  qkv_width_ = (config.num_heads + 2 * config.num_kv_heads) * config.head_dim;
  kv_layer_elems_ =
      static_cast<int64_t>(kv.num_blocks) * kv.block_size * config.num_kv_heads * config.head_dim;
  kv_pool_.Reserve(kv_elem_bytes() * 2 * kv_layer_elems_ * config.num_layers);
  // The null block is read (masked) by no kernel, but keep the pool free of stale NaNs anyway.
  STRIDE_CUDA_CHECK(cudaMemset(kv_pool_.get(), 0, kv_pool_.bytes()));

  const model::RopeFrequencies rope = model::ComputeRopeFrequencies(config);
  inv_freq_.Reserve(sizeof(float) * rope.inv_freq.size());
  STRIDE_CUDA_CHECK(cudaMemcpy(inv_freq_.get(), rope.inv_freq.data(),
                               sizeof(float) * rope.inv_freq.size(), cudaMemcpyHostToDevice));
  attention_scaling_ = rope.attention_scaling;
  ReserveForLimits();
}

void CudaModelRunner::ReserveForLimits() {
  if (options_.max_num_seqs <= 0 || options_.max_num_batched_tokens <= 0) return;
  // A graph step has GraphBucket(sequences) token and logit rows; an eager one at most the budget
  // in tokens and one sampling row per sequence (prompt log-prob rows may still grow the rows).
  const int graph_rows = options_.enable_cuda_graphs
                             ? GraphBucket(std::min(options_.max_num_seqs, options_.max_graph_batch))
                             : 0;
  const int rows = std::max(options_.max_num_seqs, graph_rows);
  const int tokens = std::max(options_.max_num_batched_tokens, graph_rows);
  for (int parity : {1, 0}) {  // EnsureActivations reserves the current parity's host buffers
    parity_ = parity;
    EnsureActivations(tokens, rows);
  }
  // The decode kernel's workspace at the longest context the pool can hold, for every batch.
  const int max_context = RoundUpPow2(kv_.num_blocks, 16) * kv_.block_size;
  size_t workspace = 0;
  int widest = 1;
  for (int n = 1; n <= rows; ++n) {
    const int splits =
        kernels::ChoosePagedDecodeSplits(n, config_.num_kv_heads, max_context, num_sms_);
    const size_t bytes =
        kernels::PagedDecodeWorkspaceBytes(n, config_.num_heads, config_.head_dim, splits);
    if (bytes > workspace) {
      workspace = bytes;
      widest = n;
    }
  }
  EnsureDecodeBuffers(rows, 1);
  EnsureDecodeBuffers(widest, kernels::ChoosePagedDecodeSplits(widest, config_.num_kv_heads,
                                                                max_context, num_sms_));
}

bool CudaModelRunner::EnsureDecodeBuffers(int num_decode, int splits) {
  // Both grow to powers of two: a batch that grows step by step reallocates them a few times,
  // not at every step.
  const size_t bytes = kernels::PagedDecodeWorkspaceBytes(num_decode, config_.num_heads,
                                                          config_.head_dim, splits);
  bool moved = bytes > 0 && decode_workspace_.Reserve(std::bit_ceil(bytes));
  const size_t counter_bytes =
      sizeof(int32_t) * static_cast<size_t>(num_decode) * config_.num_kv_heads;
  if (split_counters_.Reserve(std::bit_ceil(counter_bytes))) {
    // Every completed decode launch leaves the counters at zero again; they start there.
    STRIDE_CUDA_CHECK(cudaMemsetAsync(split_counters_.get(), 0, split_counters_.bytes(), stream_));
    moved = true;
  }
  return moved;
}

void CudaModelRunner::DropGraphs() {
  trace_.Note("drains the stream to drop the graphs", num_launches_);
  // A step launched before (asynchronous scheduling) may still be running one of them.
  STRIDE_CUDA_CHECK(cudaStreamSynchronize(stream_));
  for (auto& [key, exec] : graphs_) cudaGraphExecDestroy(exec);
  graphs_.clear();
}

CudaModelRunner::~CudaModelRunner() {
  cudaStreamSynchronize(stream_);
  for (auto& [key, exec] : graphs_) cudaGraphExecDestroy(exec);
  if (std::getenv("STRIDE_CUDA_PROFILE") != nullptr) {
    for (const kernels::GemmTuningRecord& r : gemm_->tuning_records()) {
      std::fprintf(stderr, "GEMM m%d n%d k%d: heuristic %.4f ms, chosen #%d of %d %.4f ms\n", r.m,
                   r.n, r.k, r.heuristic_ms, r.chosen, r.candidates, r.chosen_ms);
    }
  }
  cudaStreamSynchronize(stream_);
  gemm_.reset();
  for (cudaEvent_t e : done_) cudaEventDestroy(e);
  cudaStreamDestroy(stream_);
}

void CudaModelRunner::EnsureActivations(int num_tokens, int num_rows) {
  bool moved = false;
  if (num_tokens > token_capacity_) {
    const int t = RoundUpPow2(num_tokens, 256);
    const size_t hidden = config_.hidden_size, q_width = config_.num_heads * config_.head_dim;
    const size_t ffn = config_.intermediate_size;
    moved |= residual_.Reserve(sizeof(float) * t * hidden);
    moved |= hidden_.Reserve(elem_bytes() * t * hidden);
    moved |= qkv_.Reserve(elem_bytes() * t * qkv_width_);
    moved |= q_.Reserve(elem_bytes() * t * q_width);
    moved |= attn_.Reserve(elem_bytes() * t * q_width);
    moved |= sublayer_out_.Reserve(elem_bytes() * t * hidden);
    moved |= gate_up_.Reserve(elem_bytes() * t * 2 * ffn);
    moved |= act_.Reserve(elem_bytes() * t * ffn);
    token_capacity_ = t;
  }
  if (num_rows > row_capacity_) {
    const int r = RoundUpPow2(num_rows, 64);
    moved |= logits_.Reserve(sizeof(float) * r * config_.vocab_size);
    // The sampler output keeps its contents: the step launched before may have sampled a token
    // this step reads on the device (asynchronous scheduling).
    DeviceBuffer sampled(sizeof(kernels::SampledToken) * r);
    if (sampled_.bytes() > 0) {
      STRIDE_CUDA_CHECK(cudaMemcpyAsync(sampled.get(), sampled_.get(), sampled_.bytes(),
                                        cudaMemcpyDeviceToDevice, stream_));
      STRIDE_CUDA_CHECK(cudaStreamSynchronize(stream_));
    }
    sampled_ = std::move(sampled);
    moved = true;
    row_capacity_ = r;
  }
  // Only this launch's host buffers: the other pair may still receive a step in flight.
  host_logits_[parity_].Reserve(sizeof(float) * row_capacity_ * config_.vocab_size);
  host_sampled_[parity_].Reserve(sizeof(kernels::SampledToken) * row_capacity_);
  if (moved) DropGraphs();  // captured graphs point at the old buffers
}

void CudaModelRunner::Gemm(const void* x, const void* w, void* y, int m, int n, int k,
                           kernels::GemmOutput out) {
  if (exact()) out = kernels::GemmOutput::kF32;
  if (!exact() && m <= options_.max_gemv_rows) {
    kernels::GemvParams g;
    g.x = static_cast<const bf16*>(x);
    g.w = static_cast<const bf16*>(w);
    g.y = y;
    g.output = out;
    g.m = m;
    g.n = n;
    g.k = k;
    if (kernels::GemvSupports(g)) {
      STRIDE_CUDA_CHECK(kernels::LaunchGemv(g, stream_));
      return;
    }
  }
  // Token counts are padded to a few buckets: every new m costs a cuBLASLt heuristic query and
  // lazy kernel loads (~40 ms per shape on the host), and the extra rows (stale activations,
  // within the buffers' power-of-two capacity) are never read back.
  m = GemmRowBucket(m);
  kernels::GemmParams p;
  p.context = gemm_.get();
  p.x = x;
  p.w = w;
  p.y = y;
  p.output = out;
  p.dtype = options_.dtype;
  p.m = m;
  p.n = n;
  p.k = k;
  const cudaError_t e = kernels::LaunchGemm(p, stream_);
  STRIDE_CHECK(e == cudaSuccess) << "GEMM " << m << "x" << n << "x" << k << ": "
                                 << cudaGetErrorString(e) << " (cuBLAS status "
                                 << gemm_->last_cublas_status() << ")";
}

void CudaModelRunner::GateUpSilu(int layer, int m) {
  const CudaLayerWeights& w = weights_.layers[layer];
  const int hidden = config_.hidden_size, ffn = config_.intermediate_size;
  if (!exact() && m <= options_.max_gemv_rows) {
    kernels::GemvParams g;
    g.x = hidden_.get<bf16>();
    g.w = static_cast<const bf16*>(w.gate_up_proj);
    g.bias = static_cast<const bf16*>(w.gate_up_bias);
    g.y = act_.get();
    g.swiglu = true;
    g.m = m;
    g.n = 2 * ffn;
    g.k = hidden;
    if (kernels::GemvSupports(g)) {
      STRIDE_CUDA_CHECK(kernels::LaunchGemv(g, stream_));
      return;
    }
  }
  Gemm(hidden_.get(), w.gate_up_proj, gate_up_.get(), m, 2 * ffn, hidden);
  kernels::SiluAndMulParams act;
  act.gate_up = gate_up_.get();
  act.bias = w.gate_up_bias;
  act.out = act_.get();
  act.dtype = options_.dtype;
  act.rows = m;
  act.width = ffn;
  STRIDE_CUDA_CHECK(kernels::LaunchSiluAndMul(act, stream_));
}

void CudaModelRunner::Attention(int layer, const StepView& step) {
  const StepLayout& l = step.layout;
  const int group = layer_group_[layer];
  void* k_cache = KvCache(layer, false);
  void* v_cache = KvCache(layer, true);
  const int32_t* tables =
      Meta<int32_t>(l.block_tables) + static_cast<size_t>(group) * l.num_seqs * l.width;
  const int window = kv_.groups[group].sliding_window;
  const float scale = 1.0f / std::sqrt(static_cast<float>(config_.head_dim));

  kernels::RopeKvCacheParams rope;
  rope.dtype = options_.dtype;
  rope.qkv = qkv_.get();
  rope.bias = weights_.layers[layer].qkv_bias;
  rope.q_norm = weights_.layers[layer].q_norm;
  rope.k_norm = weights_.layers[layer].k_norm;
  rope.norm_eps = static_cast<float>(config_.rms_norm_eps);
  rope.positions = Meta<int32_t>(l.positions);
  rope.inv_freq = inv_freq_.get<float>();
  rope.attention_scaling = attention_scaling_;
  rope.slot_mapping = Meta<int64_t>(l.slots) + static_cast<size_t>(group) * l.num_tokens;
  rope.q_out = q_.get();
  rope.k_cache = k_cache;
  rope.v_cache = v_cache;
  rope.kv_dtype = options_.kv_dtype;
  rope.num_tokens = l.num_tokens;
  rope.num_heads = config_.num_heads;
  rope.num_kv_heads = config_.num_kv_heads;
  rope.head_dim = config_.head_dim;
  STRIDE_CUDA_CHECK(kernels::LaunchRopeKvCache(rope, stream_));

  // What every attention kernel is told alike: the paging, the heads and the scale.
  auto paged = [&](auto& a) {
    a.block_tables = tables;
    a.max_blocks_per_seq = l.width;
    a.context_lens = Meta<int32_t>(l.context_lens);
    a.num_heads = config_.num_heads;
    a.num_kv_heads = config_.num_kv_heads;
    a.head_dim = config_.head_dim;
    a.block_size = kv_.block_size;
    a.sliding_window = window;
    a.scale = scale;
  };
  if (exact()) {  // one fp32 kernel for decode and prefill rows alike
    kernels::PagedAttentionF32Params a;
    paged(a);
    a.q = q_.get<float>();
    a.out = attn_.get<float>();
    a.k_cache = static_cast<const float*>(k_cache);
    a.v_cache = static_cast<const float*>(v_cache);
    a.query_start = Meta<int32_t>(l.query_start);
    a.num_seqs = l.num_seqs;
    STRIDE_CUDA_CHECK(kernels::LaunchPagedAttentionF32(a, stream_));
    return;
  }
  if (step.num_decode > 0) {
    kernels::PagedDecodeParams d;
    paged(d);
    d.q = q_.get<bf16>();
    d.out = attn_.get<bf16>();
    d.k_cache = k_cache;
    d.v_cache = v_cache;
    d.kv_dtype = options_.kv_dtype;
    d.num_seqs = step.num_decode;
    d.num_splits = step.decode_splits;
    d.workspace = decode_workspace_.get();
    d.split_counters = step.decode_splits > 1 ? split_counters_.get<int32_t>() : nullptr;
    STRIDE_CUDA_CHECK(kernels::LaunchPagedDecode(d, stream_));
  }
  if (l.num_work > 0) {
    kernels::PagedPrefillParams p;
    paged(p);
    p.q = q_.get<bf16>();
    p.out = attn_.get<bf16>();
    p.k_cache = k_cache;
    p.v_cache = v_cache;
    p.kv_dtype = options_.kv_dtype;
    p.query_start = Meta<int32_t>(l.query_start);
    p.work = Meta<kernels::PrefillWorkItem>(l.work);
    p.num_work = l.num_work;
    STRIDE_CUDA_CHECK(kernels::LaunchPagedPrefill(p, stream_));
  }
}

void CudaModelRunner::Forward(const StepView& step) {
  const StepLayout& l = step.layout;
  const int n = l.num_tokens, hidden = config_.hidden_size, ffn = config_.intermediate_size;
  const int q_width = config_.num_heads * config_.head_dim;
  const float eps = static_cast<float>(config_.rms_norm_eps);

  kernels::EmbeddingParams embed;
  embed.table = weights_.embed_tokens;
  embed.dtype = options_.dtype;
  embed.ids = Meta<int32_t>(l.token_ids);
  embed.src_rows = Meta<int32_t>(l.token_src);
  embed.src_tokens = &sampled_.get<kernels::SampledToken>()->token;
  embed.src_stride = sizeof(kernels::SampledToken) / sizeof(int32_t);
  embed.out = residual_.get<float>();
  embed.num_tokens = n;
  embed.hidden = hidden;
  STRIDE_CUDA_CHECK(kernels::LaunchEmbedding(embed, stream_));

  kernels::FusedAddRmsNormParams norm;
  norm.residual = residual_.get<float>();
  norm.out = hidden_.get();
  norm.dtype = options_.dtype;
  norm.rows = n;
  norm.dim = hidden;
  norm.eps = eps;
  for (int layer = 0; layer < config_.num_layers; ++layer) {
    const CudaLayerWeights& w = weights_.layers[layer];
    // residual += previous MLP output; h = norm(residual)
    norm.add = layer == 0 ? nullptr : sublayer_out_.get();
    norm.add_bias = layer == 0 ? nullptr : weights_.layers[layer - 1].down_bias;
    norm.weight = w.input_layernorm;
    STRIDE_CUDA_CHECK(kernels::LaunchFusedAddRmsNorm(norm, stream_));
    Gemm(hidden_.get(), w.qkv_proj, qkv_.get(), n, qkv_width_, hidden);
    Attention(layer, step);
    Gemm(attn_.get(), w.o_proj, sublayer_out_.get(), n, hidden, q_width);
    norm.add = sublayer_out_.get();
    norm.add_bias = w.o_bias;
    norm.weight = w.post_attention_layernorm;
    STRIDE_CUDA_CHECK(kernels::LaunchFusedAddRmsNorm(norm, stream_));
    GateUpSilu(layer, n);
    Gemm(act_.get(), w.down_proj, sublayer_out_.get(), n, hidden, ffn);
  }
  trace_.Note("every layer queued", num_launches_);
  // Final residual add and norm, only for the rows that need logits.
  norm.add = sublayer_out_.get();
  norm.add_bias = weights_.layers.back().down_bias;
  norm.weight = weights_.norm;
  norm.row_index = step.gather_rows ? Meta<int32_t>(l.rows) : nullptr;
  norm.rows = l.num_rows;
  STRIDE_CUDA_CHECK(kernels::LaunchFusedAddRmsNorm(norm, stream_));
  Gemm(hidden_.get(), weights_.lm_head, logits_.get(), l.num_rows, config_.vocab_size, hidden,
       kernels::GemmOutput::kF32);
  kernels::SampleParams sample;
  sample.logits = logits_.get<float>();
  sample.rows_params = Meta<kernels::SampleRowParams>(l.sample_rows);
  sample.out = sampled_.get<kernels::SampledToken>();
  sample.rows = l.num_rows;
  sample.vocab = config_.vocab_size;
  STRIDE_CUDA_CHECK(kernels::LaunchSample(sample, stream_));
}

StepOutput CudaModelRunner::Execute(const SchedulerOutput& output) {
  Launch(output);
  return Finish();
}

std::pair<int32_t, int32_t> CudaModelRunner::InFlightInput(const scheduler::Request& request) {
  auto it = sample_row_of_.find(request.id);
  STRIDE_CHECK(it != sample_row_of_.end() && !launched_.empty())
      << "request " << request.id << ": its token in flight was not sampled by the last step";
  if (it->second >= 0) return {it->second, 0};
  // Sampled on the host: wait for that step and sample it now (Finish reuses the result). The
  // request's history is the one Finish would see: the step before it is updated already.
  Launched& last = launched_.back();
  const int r = -it->second - 1;  // its index in last.rows
  trace_.Note("Launch waits for a host-sampled input", num_launches_);
  STRIDE_CUDA_CHECK(cudaEventSynchronize(done_[last.parity]));
  const size_t vocab = config_.vocab_size;
  const size_t logit_row = last.use_graph ? last.rows[r].row : r;
  std::span<const float> row_logits(host_logits_[last.parity].get<float>() + logit_row * vocab,
                                    vocab);
  sampling::SamplerScratch scratch;
  scheduler::TokenLogprob token = sampling::SampleToken(row_logits, request, scratch);
  const int32_t id = token.token_id;
  last.host_sampled.emplace(r, std::move(token));
  return {-1, id};
}

void CudaModelRunner::Launch(const SchedulerOutput& output) {
  // Two launches alternate the host buffers: a third would overwrite the first's results.
  STRIDE_CHECK_LT(launched_.size(), 2u) << "at most one step in flight before the next launch";
  ++num_launches_;
  trace_.Note("Launch starts", num_launches_);
  if (output.chunks.empty()) {
    sample_row_of_.clear();
    launched_.push_back(Launched{});
    return;
  }
  const int num_seqs = static_cast<int>(output.chunks.size());
  const int num_groups = static_cast<int>(kv_.groups.size());
  const int bs = kv_.block_size;

  int num_tokens = 0, num_decode = 0, max_context = 0, max_blocks = 1;
  bool leading = true;
  for (const ScheduledChunk& c : output.chunks) {
    num_tokens += c.num_new_tokens;
    leading = leading && c.num_new_tokens == 1;
    if (leading) ++num_decode;
    const int context = c.num_computed_tokens + c.num_new_tokens;
    max_context = std::max(max_context, context);
    max_blocks = std::max(max_blocks, (context + bs - 1) / bs);
  }
  const bool use_graph =
      options_.enable_cuda_graphs && num_decode == num_seqs && num_seqs <= options_.max_graph_batch;
  profile_.Begin(use_graph ? num_seqs : -num_seqs);

  // Rows that need logits: prompt-logprob rows and the last row of sampling chunks.
  std::vector<LogitRow> rows;
  {
    int offset = 0;
    for (int c = 0; c < num_seqs; ++c) {
      const ScheduledChunk& chunk = output.chunks[c];
      const scheduler::Request& request = *chunk.request;
      if (request.sampling.prompt_logprobs >= 0) {
        const bool host = request.sampling.prompt_logprobs > kernels::kMaxGpuTopLogprobs;
        for (int i = 0; i < chunk.num_new_tokens; ++i) {
          if (chunk.num_computed_tokens + i + 1 < request.num_prompt_tokens) {
            rows.push_back({c, offset + i, false, host});
          }
        }
      }
      if (chunk.sample) {
        rows.push_back({c, offset + chunk.num_new_tokens - 1, true, !GpuCanSample(request)});
      }
      offset += chunk.num_new_tokens;
    }
  }

  StepView step;
  StepLayout& l = step.layout;
  l.num_tokens = use_graph ? GraphBucket(num_seqs) : num_tokens;
  l.num_seqs = use_graph ? l.num_tokens : num_seqs;
  l.num_groups = num_groups;
  l.width = RoundUpPow2(max_blocks, 16);
  l.num_rows = use_graph ? l.num_tokens : static_cast<int>(rows.size());
  step.gather_rows = !use_graph;
  step.num_decode = use_graph ? l.num_seqs : num_decode;
  std::vector<kernels::PrefillWorkItem> work;
  if (num_decode < num_seqs) {
    std::vector<int> query_lens(num_seqs, 0), context_lens(num_seqs, 0);
    for (int c = num_decode; c < num_seqs; ++c) {
      query_lens[c] = output.chunks[c].num_new_tokens;
      context_lens[c] = output.chunks[c].num_computed_tokens + output.chunks[c].num_new_tokens;
    }
    // Sliding-window groups only shorten the key range; plan for the widest (full) case.
    work = kernels::PlanPagedPrefill(query_lens, context_lens, config_.num_heads,
                                     config_.num_kv_heads, 0);
  }
  l.num_work = static_cast<int>(work.size());
  l.Compute();

  // Fill the staging copy of the metadata.
  EnsureActivations(l.num_tokens, std::max(1, l.num_rows));
  // Powers of two, so that a growing batch reallocates them rarely (freeing pinned memory waits
  // for the device).
  if (staging_[parity_].Reserve(std::bit_ceil(l.total))) {  // graphs never read it
    trace_.Note("pinned staging reallocated", num_launches_);
  }
  if (meta_.Reserve(std::max<size_t>(std::bit_ceil(l.total), 1 << 20))) DropGraphs();
  char* host = staging_[parity_].get<char>();
  auto* slots = reinterpret_cast<int64_t*>(host + l.slots);
  auto* token_ids = reinterpret_cast<int32_t*>(host + l.token_ids);
  auto* token_src = reinterpret_cast<int32_t*>(host + l.token_src);
  auto* positions = reinterpret_cast<int32_t*>(host + l.positions);
  auto* row_index = reinterpret_cast<int32_t*>(host + l.rows);
  auto* query_start = reinterpret_cast<int32_t*>(host + l.query_start);
  auto* context_lens = reinterpret_cast<int32_t*>(host + l.context_lens);
  auto* tables = reinterpret_cast<int32_t*>(host + l.block_tables);
  std::fill(tables, tables + static_cast<size_t>(num_groups) * l.num_seqs * l.width, 0);
  int t = 0;
  for (int c = 0; c < l.num_seqs; ++c) {
    query_start[c] = t;
    if (c >= num_seqs) {  // graph padding: a sequence with no keys and a skipped KV write
      context_lens[c] = 0;
      token_ids[t] = 0;
      token_src[t] = -1;
      positions[t] = 0;
      for (int g = 0; g < num_groups; ++g) slots[g * l.num_tokens + t] = -1;
      ++t;
      continue;
    }
    const ScheduledChunk& chunk = output.chunks[c];
    STRIDE_CHECK_EQ(static_cast<int>(chunk.block_tables.size()), num_groups);
    context_lens[c] = chunk.num_computed_tokens + chunk.num_new_tokens;
    for (int g = 0; g < num_groups; ++g) {
      const auto& table = chunk.block_tables[g];
      const int used = std::min<int>(table.size(), l.width);
      std::copy_n(table.data(), used, tables + (static_cast<size_t>(g) * l.num_seqs + c) * l.width);
    }
    for (int i = 0; i < chunk.num_new_tokens; ++i, ++t) {
      const int position = chunk.num_computed_tokens + i;
      if (position < chunk.request->num_tokens()) {
        token_ids[t] = chunk.request->token_ids[position];
        token_src[t] = -1;
      } else {  // asynchronous scheduling: the token the last step is sampling
        STRIDE_CHECK_EQ(position, chunk.request->num_tokens());
        std::tie(token_src[t], token_ids[t]) = InFlightInput(*chunk.request);
      }
      positions[t] = position;
      for (int g = 0; g < num_groups; ++g) {
        const auto& table = chunk.block_tables[g];
        STRIDE_CHECK_LT(position / bs, static_cast<int>(table.size()));
        const kvcache::BlockId block = table[position / bs];
        STRIDE_CHECK(block != kvcache::kNullBlock) << "writing KV into the null block";
        slots[g * l.num_tokens + t] = static_cast<int64_t>(block) * bs + position % bs;
      }
    }
  }
  query_start[l.num_seqs] = t;
  if (!use_graph) {
    for (size_t r = 0; r < rows.size(); ++r) row_index[r] = rows[r].row;
  }
  // Sampling knobs per logit row (graph mode: logit row = token row; padding rows are greedy).
  auto* sample_rows = reinterpret_cast<kernels::SampleRowParams*>(host + l.sample_rows);
  std::fill(sample_rows, sample_rows + l.num_rows, kernels::SampleRowParams{});
  {
    std::vector<int> chunk_offset(num_seqs);
    for (int c = 0, offset = 0; c < num_seqs; ++c) {
      chunk_offset[c] = offset;
      offset += output.chunks[c].num_new_tokens;
    }
    for (size_t r = 0; r < rows.size(); ++r) {
      const LogitRow& row = rows[r];
      const ScheduledChunk& chunk = output.chunks[row.chunk];
      const scheduler::Request& request = *chunk.request;
      kernels::SampleRowParams& params = sample_rows[use_graph ? row.row : r];
      if (row.on_host) continue;
      if (row.sample) {
        params = SampleRowFor(request, chunk.num_computed_tokens + chunk.num_new_tokens -
                                           request.num_prompt_tokens);
      } else {
        const int position = chunk.num_computed_tokens + (row.row - chunk_offset[row.chunk]);
        params = ScoreRowFor(request.token_ids[position + 1], request.sampling.prompt_logprobs);
      }
    }
  }
  std::copy(work.begin(), work.end(), reinterpret_cast<kernels::PrefillWorkItem*>(host + l.work));

  if (step.num_decode > 0) {
    const int decode_context = use_graph ? l.width * bs : max_context;
    step.decode_splits = kernels::ChoosePagedDecodeSplits(step.num_decode, config_.num_kv_heads,
                                                          decode_context, num_sms_);
    if (EnsureDecodeBuffers(step.num_decode, step.decode_splits)) DropGraphs();
  }

  profile_.Mark(StepProfile::kMetaBuilt, stream_);
  STRIDE_CUDA_CHECK(cudaMemcpyAsync(meta_.get(), host, l.total, cudaMemcpyHostToDevice, stream_));
  trace_.Note("metadata queued", num_launches_);
  if (use_graph) {
    const std::pair<int, int> key{l.num_seqs, l.width};
    auto it = graphs_.find(key);
    if (it != graphs_.end()) {
      STRIDE_CUDA_CHECK(cudaGraphLaunch(it->second, stream_));
    } else {
      // First sight of this shape: run it eagerly (warming GEMM plans and kernel attributes),
      // then capture it for the next steps.
      Forward(step);
      trace_.Note("first sight of a graph shape run eagerly; capturing", num_launches_);
      cudaGraph_t graph;
      STRIDE_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
      Forward(step);
      STRIDE_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
      cudaGraphExec_t exec;
      STRIDE_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
      trace_.Note("graph instantiated", num_launches_);
      STRIDE_CUDA_CHECK(cudaGraphDestroy(graph));
      graphs_.emplace(key, exec);
    }
  } else {
    Forward(step);
  }

  // The sampler's results to the host, and the logits of the rows the host samples; in graph
  // mode logit row r is token row r.
  const size_t vocab = config_.vocab_size;
  const int copy_rows = use_graph ? num_tokens : static_cast<int>(rows.size());
  if (copy_rows > 0) {
    STRIDE_CUDA_CHECK(cudaMemcpyAsync(host_sampled_[parity_].get(), sampled_.get(),
                                      sizeof(kernels::SampledToken) * copy_rows,
                                      cudaMemcpyDeviceToHost, stream_));
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    if (!rows[r].on_host) continue;
    const size_t logit_row = use_graph ? rows[r].row : r;
    STRIDE_CUDA_CHECK(cudaMemcpyAsync(host_logits_[parity_].get<float>() + logit_row * vocab,
                                      logits_.get<float>() + logit_row * vocab,
                                      sizeof(float) * vocab, cudaMemcpyDeviceToHost, stream_));
  }
  STRIDE_CUDA_CHECK(cudaEventRecord(done_[parity_], stream_));
  profile_.Mark(StepProfile::kIssued, stream_);

  // Where the next step finds each token sampled here: its sampler row, or (sampled on the
  // host) -1 - its index in `rows`.
  sample_row_of_.clear();
  for (size_t r = 0; r < rows.size(); ++r) {
    if (!rows[r].sample) continue;
    const int32_t where = rows[r].on_host ? -1 - static_cast<int32_t>(r)
                                          : static_cast<int32_t>(use_graph ? rows[r].row : r);
    sample_row_of_[output.chunks[rows[r].chunk].request->id] = where;
  }
  Launched launched;
  launched.output = &output;
  launched.rows = std::move(rows);
  launched.use_graph = use_graph;
  launched.parity = parity_;
  launched_.push_back(std::move(launched));
  parity_ ^= 1;
  trace_.Note("Launch returns", num_launches_);
}

StepOutput CudaModelRunner::Finish() {
  STRIDE_CHECK(!launched_.empty()) << "Finish() without a Launch()";
  Launched step = std::move(launched_.front());
  launched_.pop_front();
  StepOutput result;
  if (step.output == nullptr) return result;  // an empty step
  const SchedulerOutput& output = *step.output;
  const std::vector<LogitRow>& rows = step.rows;
  const bool use_graph = step.use_graph;
  const int num_seqs = static_cast<int>(output.chunks.size());
  const size_t vocab = config_.vocab_size;
  trace_.Note("Finish waits for the oldest step", num_launches_);
  STRIDE_CUDA_CHECK(cudaEventSynchronize(done_[step.parity]));
  trace_.Note("Finish has its results", num_launches_);
  profile_.Mark(StepProfile::kSynced, stream_);

  result.chunks.resize(num_seqs);
  std::vector<int> chunk_offset(num_seqs);
  for (int c = 0, offset = 0; c < num_seqs; ++c) {
    result.chunks[c].request_id = output.chunks[c].request->id;
    chunk_offset[c] = offset;
    offset += output.chunks[c].num_new_tokens;
  }
  sampling::SamplerScratch scratch;
  const float* logits = host_logits_[step.parity].get<float>();
  const auto* sampled = host_sampled_[step.parity].get<kernels::SampledToken>();
  for (size_t r = 0; r < rows.size(); ++r) {
    const LogitRow& row = rows[r];
    const ScheduledChunk& chunk = output.chunks[row.chunk];
    const scheduler::Request& request = *chunk.request;
    scheduler::ChunkOutput& out = result.chunks[row.chunk];
    const size_t logit_row = use_graph ? row.row : r;
    std::span<const float> row_logits(logits + logit_row * vocab, vocab);
    const int position = chunk.num_computed_tokens + (row.row - chunk_offset[row.chunk]);
    if (!row.sample) {
      const int num_top = request.sampling.prompt_logprobs;
      out.prompt_logprobs.push_back(
          row.on_host
              ? sampling::RawTokenLogprob(row_logits, request.token_ids[position + 1], num_top)
              : ToTokenLogprob(sampled[logit_row], num_top));
    } else if (auto early = step.host_sampled.find(static_cast<int>(r));
               early != step.host_sampled.end()) {
      out.sampled = true;  // sampled when the next step needed it (InFlightInput)
      out.next_token = std::move(early->second);
    } else {
      out.sampled = true;
      out.next_token = row.on_host ? sampling::SampleToken(row_logits, request, scratch)
                                   : ToTokenLogprob(sampled[logit_row], request.sampling.logprobs);
    }
  }
  profile_.Mark(StepProfile::kDone, stream_);
  return result;
}

}  // namespace

int64_t CudaKvBytesPerBlock(const model::ModelConfig& config, int block_size,
                            kernels::DType kv_dtype) {
  return 2LL * config.num_layers * block_size * config.num_kv_heads * config.head_dim *
         static_cast<int64_t>(kernels::DTypeBytes(kv_dtype));
}

absl::StatusOr<int> CudaKvBlocksForMemory(const model::ModelConfig& config, int block_size,
                                          double gpu_memory_utilization, int max_num_batched_tokens,
                                          int device, kernels::DType dtype,
                                          kernels::DType kv_dtype) {
  if (!(gpu_memory_utilization > 0.0 && gpu_memory_utilization <= 1.0)) {
    return absl::InvalidArgumentError("--gpu-memory-utilization must be in (0, 1]");
  }
  if (cudaError_t e = cudaSetDevice(device); e != cudaSuccess) {
    return absl::FailedPreconditionError(
        absl::StrCat("CUDA device ", device, ": ", cudaGetErrorString(e)));
  }
  size_t free_bytes = 0, total_bytes = 0;
  if (cudaError_t e = cudaMemGetInfo(&free_bytes, &total_bytes); e != cudaSuccess) {
    return absl::FailedPreconditionError(absl::StrCat("cudaMemGetInfo: ", cudaGetErrorString(e)));
  }
  const int64_t tokens = std::max(256, max_num_batched_tokens);
  const int64_t hidden = config.hidden_size, ffn = config.intermediate_size;
  const int64_t q = static_cast<int64_t>(config.num_heads) * config.head_dim;
  const int64_t qkv = q + 2LL * config.num_kv_heads * config.head_dim;
  const int64_t e = static_cast<int64_t>(kernels::DTypeBytes(dtype));
  const int64_t activations =
      tokens * (hidden * 4 + hidden * e * 2 + qkv * e + q * e * 2 + ffn * e * 3) +
      2 * 256LL * config.vocab_size * 4 + kGemmWorkspaceBytes + (512LL << 20);
  const int64_t used_by_others = static_cast<int64_t>(total_bytes - free_bytes);
  const int64_t budget = static_cast<int64_t>(gpu_memory_utilization * total_bytes) -
                         used_by_others - CudaWeightBytes(config, dtype) - activations;
  const int64_t per_block = CudaKvBytesPerBlock(config, block_size, kv_dtype);
  if (budget < 2 * per_block) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "no room for the KV cache: ", gpu_memory_utilization, " of ", total_bytes >> 20,
        " MiB leaves ", budget >> 20, " MiB after weights and activations"));
  }
  return static_cast<int>(std::min<int64_t>(budget / per_block, 1 << 24));
}

absl::Status CudaBlockSizeSupported(int block_size) {
  if (block_size > 0 && std::has_single_bit(static_cast<unsigned>(block_size))) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "the CUDA backend needs a power-of-two --block-size (8, 16, 32, ...), not ", block_size));
}

absl::StatusOr<std::unique_ptr<ModelRunner>> CreateCudaModelRunner(
    const model::ModelConfig& config, const model::ModelWeights& weights,
    const kvcache::KvCacheConfig& kv, const CudaRunnerOptions& options) {
  const bool fp8_kv = options.kv_dtype == kernels::DType::kFP8E4M3;
  if (options.dtype == kernels::DType::kFP8E4M3 ||
      (options.kv_dtype != options.dtype && !(fp8_kv && options.dtype == kernels::DType::kBF16))) {
    return absl::InvalidArgumentError(
        "the CUDA backend's KV cache is of the model's dtype, or fp8 with bfloat16");
  }
  if (options.dtype == kernels::DType::kF32) {
    if (config.head_dim <= 0 || config.head_dim % 2 != 0 || config.head_dim > 256) {
      return absl::UnimplementedError(
          absl::StrCat("the CUDA backend's float32 mode supports even head_dim up to 256, not ",
                       config.head_dim));
    }
  } else if (!kernels::PagedAttentionSupportsHeadDim(config.head_dim)) {
    return absl::UnimplementedError(
        absl::StrCat("the CUDA backend supports head_dim 16, 32, 64 and 128 in bfloat16, not ",
                     config.head_dim, " (--dtype float32 takes any even head_dim up to 256)"));
  }
  if (config.num_kv_heads <= 0 || config.num_heads % config.num_kv_heads != 0 ||
      config.num_heads / config.num_kv_heads > 64) {
    return absl::UnimplementedError("the CUDA backend needs num_heads / num_kv_heads <= 64");
  }
  STRIDE_RETURN_IF_ERROR(CudaBlockSizeSupported(kv.block_size));
  if (config.rope_scaling.type == model::RopeType::kDynamic) {
    // Positions never pass max_position_embeddings (the engine caps max_model_len there), where
    // dynamic scaling equals the base frequencies; see CudaModelRunner's constructor.
  }
  int count = 0;
  if (cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess || options.device >= count) {
    return absl::FailedPreconditionError(
        absl::StrCat("no CUDA device ", options.device, ": ",
                     e != cudaSuccess ? cudaGetErrorString(e) : "fewer devices present"));
  }
  return std::unique_ptr<ModelRunner>(new CudaModelRunner(config, weights, kv, options));
}

}  // namespace stride::engine::runner::cuda
