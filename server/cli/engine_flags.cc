#include "server/cli/engine_flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, model, "",
          "checkpoint directory (or a config.json with --load-format dummy)");
ABSL_FLAG(std::string, load_format, "auto", "auto (safetensors) or dummy (random weights)");
ABSL_FLAG(uint64_t, dummy_seed, 0, "seed of --load-format dummy weights");
ABSL_FLAG(int, max_model_len, 0, "longest prompt + output; 0: the model's maximum");
ABSL_FLAG(int, max_num_batched_tokens, 2048, "token budget of one engine step");
ABSL_FLAG(int, max_num_seqs, 256, "requests running at once");
ABSL_FLAG(bool, enable_chunked_prefill, true, "cut prompts into chunks (Sarathi-Serve)");
ABSL_FLAG(bool, priority_scheduling, false, "schedule by request priority instead of arrival");
ABSL_FLAG(std::string, async_scheduling, "auto",
          "plan the next engine step while the current one runs: auto (on with the CUDA backend, "
          "off with the CPU backend), true or false; --async-scheduling alone means true, "
          "--no-async-scheduling false");
ABSL_FLAG(int, block_size, 16, "tokens per KV-cache block");
ABSL_FLAG(int, num_kv_blocks, 0, "KV-cache blocks; 0: derived from --kv-cache-memory-mb");
ABSL_FLAG(int64_t, kv_cache_memory_mb, 256, "KV-cache memory when --num-kv-blocks is 0");
ABSL_FLAG(bool, enable_prefix_caching, true, "reuse cached KV blocks of shared prompt prefixes");
ABSL_FLAG(int, threads, 0, "CPU backend threads; 0: one per core");
ABSL_FLAG(std::string, device, "auto", "auto (CUDA when a GPU is present), cpu or cuda");
ABSL_FLAG(double, gpu_memory_utilization, 0.9, "CUDA: share of GPU memory for weights + KV cache");
ABSL_FLAG(bool, enforce_eager, false, "CUDA: no CUDA graphs for decode steps");
ABSL_FLAG(std::string, dtype, "auto",
          "auto (CUDA: bfloat16), bfloat16 or float32 (CUDA's exact mode; the CPU backend is "
          "always float32)");
ABSL_FLAG(std::string, kv_cache_dtype, "auto",
          "auto (the same as --dtype) or fp8 (CUDA, bfloat16: e4m3 KV cache, half the bytes)");

namespace stride::server::cli {

absl::StatusOr<engine::EngineOptions> EngineOptionsFromFlags() {
  engine::EngineOptions options;
  options.model = absl::GetFlag(FLAGS_model);
  const std::string format = absl::GetFlag(FLAGS_load_format);
  if (format == "auto") {
    options.load_format = engine::model::LoadFormat::kAuto;
  } else if (format == "dummy") {
    options.load_format = engine::model::LoadFormat::kDummy;
  } else {
    return absl::InvalidArgumentError("--load-format must be auto or dummy, not '" + format + "'");
  }
  options.dummy_seed = absl::GetFlag(FLAGS_dummy_seed);
  options.max_model_len = absl::GetFlag(FLAGS_max_model_len);
  options.max_num_batched_tokens = absl::GetFlag(FLAGS_max_num_batched_tokens);
  options.max_num_seqs = absl::GetFlag(FLAGS_max_num_seqs);
  options.enable_chunked_prefill = absl::GetFlag(FLAGS_enable_chunked_prefill);
  options.priority_scheduling = absl::GetFlag(FLAGS_priority_scheduling);
  // auto leaves it unset: EngineOptions then picks the backend's default.
  const std::string async = absl::GetFlag(FLAGS_async_scheduling);
  if (async == "true" || async == "1") {
    options.async_scheduling = true;
  } else if (async == "false" || async == "0") {
    options.async_scheduling = false;
  } else if (async != "auto") {
    return absl::InvalidArgumentError("--async-scheduling must be auto, true or false, not '" +
                                      async + "'");
  }
  options.block_size = absl::GetFlag(FLAGS_block_size);
  options.num_kv_blocks = absl::GetFlag(FLAGS_num_kv_blocks);
  options.kv_cache_memory_bytes = absl::GetFlag(FLAGS_kv_cache_memory_mb) << 20;
  options.enable_prefix_caching = absl::GetFlag(FLAGS_enable_prefix_caching);
  options.num_threads = absl::GetFlag(FLAGS_threads);
  options.device = absl::GetFlag(FLAGS_device);
  options.gpu_memory_utilization = absl::GetFlag(FLAGS_gpu_memory_utilization);
  options.enable_cuda_graphs = !absl::GetFlag(FLAGS_enforce_eager);
  options.dtype = absl::GetFlag(FLAGS_dtype);
  options.kv_cache_dtype = absl::GetFlag(FLAGS_kv_cache_dtype);
  return options;
}

std::string SpellOutEngineFlag(const std::string& arg) {
  if (arg == "--async_scheduling") return "--async_scheduling=true";
  if (arg == "--noasync_scheduling" || arg == "--no_async_scheduling") {
    return "--async_scheduling=false";
  }
  return arg;
}

}  // namespace stride::server::cli
