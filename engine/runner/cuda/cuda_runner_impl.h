// The CUDA runner's class, shared by its three source files: buffers and set-up
// (cuda_model_runner.cc), the forward pass (cuda_forward.cc), and launching a step and taking its
// results (cuda_step.cc). Internal: everything else reaches it through cuda_model_runner.h.
#pragma once

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

#include "engine/runner/cuda/cuda_model_runner.h"
#include "engine/runner/cuda/step_layout.h"

namespace stride::engine::runner::cuda {

using bf16 = __nv_bfloat16;
using scheduler::ScheduledChunk;
using scheduler::SchedulerOutput;
using scheduler::StepOutput;

inline constexpr size_t kGemmWorkspaceBytes = 64 << 20;

class CudaModelRunner : public ModelRunner {
 public:
  CudaModelRunner(const model::ModelConfig& config, const model::ModelWeights& weights,
                  const kvcache::KvCacheConfig& kv, const CudaRunnerOptions& options);
  ~CudaModelRunner() override;
  // cuda_model_runner.h's CudaGemmPlanCounts.
  CudaGemmPlans gemm_plans() const {
    return {gemm_plans_at_start_, static_cast<int>(gemm_->num_plans())};
  }

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
    int position;  // that token's position in its request
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
  // Runs every GEMM shape a step within these limits can use once (gemm_warm_up.cc), so that no
  // step pays a shape's first call.
  void WarmUpGemms(int max_tokens, int max_rows);
  // The decode kernel's split workspace and counters for `num_decode` rows and `splits`; true
  // when a buffer a graph points at moved.
  bool EnsureDecodeBuffers(int num_decode, int splits);
  void DropGraphs();  // after a buffer a graph points at moved
  // The device sampler row (first) or, for a token sampled on the host, -1 and the token
  // (second) of the token in flight that `request`'s next input is.
  std::pair<int32_t, int32_t> InFlightInput(const scheduler::Request& request);
  // Rows that need logits: prompt-logprob rows and the last row of sampling chunks.
  std::vector<LogitRow> LogitRows(const SchedulerOutput& output) const;
  // The staging copy of a step's metadata at `host` (StepLayout): token ids or their in-flight
  // sources, positions, KV slots, block tables, logit rows, sampling knobs, prefill work.
  void FillMetadata(const SchedulerOutput& output, const std::vector<LogitRow>& rows,
                    const std::vector<kernels::PrefillWorkItem>& work, const StepView& step,
                    bool use_graph, char* host);
  // Queues the forward pass: the decode graph of the step's shape (captured at first sight) or
  // the kernels one by one.
  void Issue(const StepView& step, bool use_graph);
  // Queues the copies of the sampler's results (and of host-sampled rows' logits) and records
  // the step's event.
  void QueueResults(const std::vector<LogitRow>& rows, bool use_graph, int num_tokens);
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
  // Launches the skinny GEMM for `g` when it takes it (bf16, at most max_gemv_rows rows, a shape
  // GemvSupports); false, having launched nothing, otherwise.
  bool TryGemv(const kernels::GemvParams& g);

  model::ModelConfig config_;
  kvcache::KvCacheConfig kv_;
  CudaRunnerOptions options_;
  CudaWeights weights_;
  std::vector<int> layer_group_;
  int num_sms_ = 0;
  int qkv_width_ = 0;
  cudaStream_t stream_ = nullptr;
  std::unique_ptr<kernels::GemmContext> gemm_;
  int gemm_plans_at_start_ = 0;  // after WarmUpGemms

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
  StepProfile profile_{options_.profile};
  StepTrace trace_{options_.trace_events};
  long num_launches_ = 0;

  std::map<std::pair<int, int>, cudaGraphExec_t> graphs_;  // (batch bucket, width) -> graph
};

}  // namespace stride::engine::runner::cuda
