// Derives the KV-cache layout (block size, pool size, groups of layers by attention kind) from a
// model config. The engine hands the result to both the KvCacheManager (metadata) and the runner
// (memory), so the two always agree.
#pragma once

#include "engine/model/model_config.h"
#include "kvcache/block.h"

namespace stride::engine::runner {

// One group for full-attention layers, one per distinct sliding window; empty groups omitted.
kvcache::KvCacheConfig BuildKvCacheConfig(const model::ModelConfig& model, int block_size,
                                          int num_blocks, bool enable_prefix_caching);

// Index of the group holding `layer` in config.groups.
int GroupOfLayer(const kvcache::KvCacheConfig& config, int layer);

}  // namespace stride::engine::runner
