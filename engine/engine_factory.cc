#include "engine/engine_factory.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/runner/cpu/cpu_model_runner.h"
#include "engine/runner/kv_cache_spec.h"
#ifdef STRIDE_WITH_CUDA
#include <cuda_runtime_api.h>

#include "engine/runner/cuda/cuda_model_runner.h"
#endif

namespace stride::engine {

namespace {

bool HaveCudaDevice() {
#ifdef STRIDE_WITH_CUDA
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
#else
  return false;
#endif
}

absl::StatusOr<std::string> ChooseDevice(const std::string& requested) {
  if (requested == "cpu") return requested;
  if (requested == "auto") return HaveCudaDevice() ? "cuda" : "cpu";
  if (requested == "cuda") {
#ifndef STRIDE_WITH_CUDA
    return absl::InvalidArgumentError(
        "--device cuda: this stride was built without CUDA (use the cuda preset)");
#endif
    if (!HaveCudaDevice()) return absl::FailedPreconditionError("--device cuda: no GPU found");
    return requested;
  }
  return absl::InvalidArgumentError("--device must be auto, cpu or cuda, not '" + requested + "'");
}

// The element type the backend computes in, from --dtype.
absl::StatusOr<std::string> ChooseDtype(const std::string& requested, const std::string& device) {
  if (requested != "auto" && requested != "bfloat16" && requested != "float32") {
    return absl::InvalidArgumentError("--dtype must be auto, bfloat16 or float32, not '" +
                                      requested + "'");
  }
  if (device == "cpu") {
    if (requested == "bfloat16") {
      return absl::InvalidArgumentError(
          "--dtype bfloat16: the CPU backend computes in float32 (bfloat16 needs --device cuda)");
    }
    return std::string("float32");
  }
  return requested == "auto" ? std::string("bfloat16") : requested;
}

// What the backend computes in and what its KV cache holds.
struct Precision {
  std::string dtype;           // "bfloat16" or "float32"
  std::string kv_cache_dtype;  // the same, or "fp8_e4m3"
};

absl::StatusOr<Precision> ChoosePrecision(const EngineOptions& options, const std::string& device) {
  Precision p;
  STRIDE_ASSIGN_OR_RETURN(p.dtype, ChooseDtype(options.dtype, device));
  const std::string& kv = options.kv_cache_dtype;
  if (kv == "auto") {
    p.kv_cache_dtype = p.dtype;
  } else if (kv == "fp8" || kv == "fp8_e4m3") {
    if (device != "cuda" || p.dtype != "bfloat16") {
      return absl::InvalidArgumentError(
          "--kv-cache-dtype fp8 needs the CUDA backend in bfloat16 (--device cuda)");
    }
    p.kv_cache_dtype = "fp8_e4m3";
  } else {
    return absl::InvalidArgumentError("--kv-cache-dtype must be auto, fp8 or fp8_e4m3, not '" + kv +
                                      "'");
  }
  return p;
}

#ifdef STRIDE_WITH_CUDA
kernels::DType CudaDtype(const std::string& dtype) {
  return dtype == "float32"    ? kernels::DType::kF32
         : dtype == "fp8_e4m3" ? kernels::DType::kFP8E4M3
                               : kernels::DType::kBF16;
}
#endif

// KV blocks for the chosen backend when the user gave none: what the memory budget holds,
// capped by what max_num_seqs sequences of max_model_len tokens could ever use.
absl::StatusOr<int> DefaultNumBlocks(const EngineOptions& options, const model::ModelConfig& config,
                                     const std::string& device, const Precision& precision,
                                     int max_model_len) {
  const int64_t by_need = static_cast<int64_t>(options.max_num_seqs) *
                          ((max_model_len + options.block_size - 1) / options.block_size);
  int64_t by_memory = 0;
  if (device == "cuda") {
#ifdef STRIDE_WITH_CUDA
    STRIDE_ASSIGN_OR_RETURN(by_memory,
                            runner::cuda::CudaKvBlocksForMemory(
                                config, options.block_size, options.gpu_memory_utilization,
                                options.max_num_batched_tokens, options.max_num_seqs, 0,
                                CudaDtype(precision.dtype), CudaDtype(precision.kv_cache_dtype)));
#endif
  } else {
    by_memory = options.kv_cache_memory_bytes /
                runner::cpu::CpuModelRunner::KvBytesPerBlock(config, options.block_size);
  }
  return static_cast<int>(std::clamp<int64_t>(std::min(by_memory, by_need), 2, 1 << 24));
}

absl::StatusOr<std::unique_ptr<runner::ModelRunner>> CreateRunner(
    const EngineOptions& options, const std::string& device, const Precision& precision,
    const model::ModelConfig& config, const model::ModelWeights& weights,
    const kvcache::KvCacheConfig& kv) {
#ifdef STRIDE_WITH_CUDA
  if (device == "cuda") {
    runner::cuda::CudaRunnerOptions cuda_options;
    cuda_options.enable_cuda_graphs = options.enable_cuda_graphs;
    cuda_options.dtype = CudaDtype(precision.dtype);
    cuda_options.kv_dtype = CudaDtype(precision.kv_cache_dtype);
    cuda_options.gemm_candidates = options.cuda_gemm_candidates;
    cuda_options.gemm_tuned_max_rows = options.cuda_gemm_tuned_max_rows;
    cuda_options.max_num_seqs = options.max_num_seqs;
    cuda_options.max_num_batched_tokens = options.max_num_batched_tokens;
    return runner::cuda::CreateCudaModelRunner(config, weights, kv, cuda_options);
  }
#endif
  return std::unique_ptr<runner::ModelRunner>(
      std::make_unique<runner::cpu::CpuModelRunner>(config, weights, kv, options.num_threads));
}

}  // namespace

absl::StatusOr<LoadedEngine> CreateEngine(const EngineOptions& options) {
  if (options.model.empty()) return absl::InvalidArgumentError("--model is required");
  STRIDE_ASSIGN_OR_RETURN(std::string device, ChooseDevice(options.device));
  STRIDE_ASSIGN_OR_RETURN(Precision precision, ChoosePrecision(options, device));
  // Flags first: a bad one fails before the weights load.
  if (options.block_size < 1 || options.block_size > 1024) {
    return absl::InvalidArgumentError("--block-size must be in [1, 1024]");
  }
#ifdef STRIDE_WITH_CUDA
  if (device == "cuda") {
    STRIDE_RETURN_IF_ERROR(runner::cuda::CudaBlockSizeSupported(options.block_size));
  }
#endif
  STRIDE_ASSIGN_OR_RETURN(model::ModelConfig config, model::LoadModelConfig(options.model));
  STRIDE_ASSIGN_OR_RETURN(
      model::ModelWeights weights,
      model::LoadModelWeights(config, options.model, options.load_format, options.dummy_seed));
  const int max_model_len =
      options.max_model_len > 0 ? options.max_model_len : config.max_position_embeddings;
  if (max_model_len > config.max_position_embeddings) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max-model-len ", max_model_len, " exceeds the model's ",
                     "max_position_embeddings (", config.max_position_embeddings, ")"));
  }
  int num_blocks = options.num_kv_blocks;
  if (num_blocks <= 0) {
    STRIDE_ASSIGN_OR_RETURN(num_blocks,
                            DefaultNumBlocks(options, config, device, precision, max_model_len));
  }
  num_blocks += 1;  // the null block
  EngineConfig engine_config;
  engine_config.scheduler.max_num_batched_tokens = options.max_num_batched_tokens;
  engine_config.scheduler.max_num_seqs = options.max_num_seqs;
  engine_config.scheduler.max_model_len = max_model_len;
  engine_config.scheduler.enable_chunked_prefill = options.enable_chunked_prefill;
  engine_config.scheduler.policy = options.priority_scheduling
                                       ? scheduler::SchedulerConfig::Policy::kPriority
                                       : scheduler::SchedulerConfig::Policy::kFcfs;
  engine_config.kv_cache = runner::BuildKvCacheConfig(config, options.block_size, num_blocks,
                                                      options.enable_prefix_caching);
  engine_config.async_scheduling = options.async_scheduling.value_or(device == "cuda");
  STRIDE_RETURN_IF_ERROR(engine_config.scheduler.Validate());
  STRIDE_ASSIGN_OR_RETURN(
      std::unique_ptr<runner::ModelRunner> runner,
      CreateRunner(options, device, precision, config, weights, engine_config.kv_cache));
  STRIDE_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine,
                          Engine::Create(engine_config, config, std::move(runner)));
  return LoadedEngine{std::move(config), device, precision.dtype, precision.kv_cache_dtype,
                      engine_config.async_scheduling, std::move(engine)};
}

}  // namespace stride::engine
