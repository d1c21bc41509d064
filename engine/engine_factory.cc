#include "engine/engine_factory.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/runner/cpu/cpu_model_runner.h"
#include "engine/runner/kv_cache_spec.h"

namespace stride::engine {

absl::StatusOr<LoadedEngine> CreateEngine(const EngineOptions& options) {
  if (options.model.empty()) return absl::InvalidArgumentError("--model is required");
  STRIDE_ASSIGN_OR_RETURN(model::ModelConfig config, model::LoadModelConfig(options.model));
  STRIDE_ASSIGN_OR_RETURN(model::ModelWeights weights,
                          model::LoadModelWeights(config, options.model, options.load_format,
                                                  options.dummy_seed));
  if (options.block_size < 1 || options.block_size > 1024) {
    return absl::InvalidArgumentError("--block-size must be in [1, 1024]");
  }
  const int max_model_len =
      options.max_model_len > 0 ? options.max_model_len : config.max_position_embeddings;
  if (max_model_len > config.max_position_embeddings) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max-model-len ", max_model_len, " exceeds the model's ",
                     "max_position_embeddings (", config.max_position_embeddings, ")"));
  }
  int num_blocks = options.num_kv_blocks;
  if (num_blocks <= 0) {
    const int64_t per_block =
        runner::cpu::CpuModelRunner::KvBytesPerBlock(config, options.block_size);
    const int64_t by_memory = options.kv_cache_memory_bytes / per_block;
    const int64_t by_need = static_cast<int64_t>(options.max_num_seqs) *
                            ((max_model_len + options.block_size - 1) / options.block_size);
    num_blocks = static_cast<int>(std::clamp<int64_t>(std::min(by_memory, by_need), 2, 1 << 24));
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
  STRIDE_RETURN_IF_ERROR(engine_config.scheduler.Validate());
  auto runner = std::make_unique<runner::cpu::CpuModelRunner>(config, weights,
                                                              engine_config.kv_cache,
                                                              options.num_threads);
  STRIDE_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine,
                          Engine::Create(engine_config, config, std::move(runner)));
  return LoadedEngine{std::move(config), std::move(engine)};
}

}  // namespace stride::engine
