#include "engine/runner/cuda/cuda_model_runner.h"

#include "engine/runner/cuda/cuda_runner_impl.h"

namespace stride::engine::runner::cuda {

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
  const int graph_rows =
      options_.enable_cuda_graphs
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
  int widest = 1, widest_splits = 1;
  for (int n = 1; n <= rows; ++n) {
    const int splits =
        kernels::ChoosePagedDecodeSplits(n, config_.num_kv_heads, max_context, num_sms_);
    const size_t bytes =
        kernels::PagedDecodeWorkspaceBytes(n, config_.num_heads, config_.head_dim, splits);
    if (bytes > workspace) {
      workspace = bytes;
      widest = n;
      widest_splits = splits;
    }
  }
  EnsureDecodeBuffers(rows, 1);
  EnsureDecodeBuffers(widest, widest_splits);
  WarmUpGemms(tokens, rows);
}

bool CudaModelRunner::EnsureDecodeBuffers(int num_decode, int splits) {
  // Both grow to powers of two: a batch that grows step by step reallocates them a few times,
  // not at every step.
  const size_t bytes =
      kernels::PagedDecodeWorkspaceBytes(num_decode, config_.num_heads, config_.head_dim, splits);
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
  if (options_.profile) {
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

CudaGemmPlans CudaGemmPlanCounts(const ModelRunner& runner) {
  const auto* cuda = dynamic_cast<const CudaModelRunner*>(&runner);
  if (cuda == nullptr) return {};
  return cuda->gemm_plans();
}

int64_t CudaKvBytesPerBlock(const model::ModelConfig& config, int block_size,
                            kernels::DType kv_dtype) {
  return 2LL * config.num_layers * block_size * config.num_kv_heads * config.head_dim *
         static_cast<int64_t>(kernels::DTypeBytes(kv_dtype));
}

absl::StatusOr<int> CudaKvBlocksForMemory(const model::ModelConfig& config, int block_size,
                                          double gpu_memory_utilization, int max_num_batched_tokens,
                                          int max_num_seqs, int device, kernels::DType dtype,
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
  // EnsureActivations' capacities: powers of two, at least 256 tokens (a decode graph's padded
  // batch included); logits for at least the 512 rows of the largest decode graph.
  const int64_t tokens =
      RoundUpPow2(std::max(max_num_batched_tokens, std::min(max_num_seqs, 512)), 256);
  const int64_t rows = RoundUpPow2(max_num_seqs, 512);
  const int64_t hidden = config.hidden_size, ffn = config.intermediate_size;
  const int64_t q = static_cast<int64_t>(config.num_heads) * config.head_dim;
  const int64_t qkv = q + 2LL * config.num_kv_heads * config.head_dim;
  const int64_t e = static_cast<int64_t>(kernels::DTypeBytes(dtype));
  const int64_t activations =
      tokens * (hidden * 4 + hidden * e * 2 + qkv * e + q * e * 2 + ffn * e * 3) +
      rows * config.vocab_size * 4 + kGemmWorkspaceBytes + (512LL << 20);
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
  // The diagnostics' one place to read the environment.
  CudaRunnerOptions with_env = options;
  if (std::getenv("STRIDE_CUDA_PROFILE") != nullptr) with_env.profile = true;
  if (const char* events = std::getenv("STRIDE_CUDA_TRACE")) {
    with_env.trace_events = std::atoi(events);
  }
  if (const char* tma = std::getenv("STRIDE_CUDA_DECODE_TMA")) {
    with_env.decode_tma = std::atoi(tma) != 0;
  }
  if (const char* order = std::getenv("STRIDE_CUDA_DECODE_HEADS_FASTEST")) {
    with_env.decode_heads_fastest = std::atoi(order) != 0;
  }
  if (const char* fp8 = std::getenv("STRIDE_CUDA_DECODE_FP8_TMA")) {
    with_env.decode_fp8_tma = std::atoi(fp8) != 0;
  }
  return std::unique_ptr<ModelRunner>(new CudaModelRunner(config, weights, kv, with_env));
}

}  // namespace stride::engine::runner::cuda
