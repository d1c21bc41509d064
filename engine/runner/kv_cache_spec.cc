#include "engine/runner/kv_cache_spec.h"

#include <algorithm>
#include <map>

#include "base/check.h"

namespace stride::engine::runner {

kvcache::KvCacheConfig BuildKvCacheConfig(const model::ModelConfig& model, int block_size,
                                          int num_blocks, bool enable_prefix_caching) {
  kvcache::KvCacheConfig config;
  config.block_size = block_size;
  config.num_blocks = num_blocks;
  config.enable_prefix_caching = enable_prefix_caching;
  std::map<int, std::vector<int>> layers_by_window;  // 0 = full attention first
  for (int layer = 0; layer < model.num_layers; ++layer) {
    int window = layer < static_cast<int>(model.layer_sliding_window.size())
                     ? model.layer_sliding_window[layer]
                     : 0;
    layers_by_window[window].push_back(layer);
  }
  for (auto& [window, layers] : layers_by_window) {
    kvcache::KvCacheGroup& group = config.groups.emplace_back();
    group.kind = window == 0 ? kvcache::AttentionKind::kFull : kvcache::AttentionKind::kSlidingWindow;
    group.sliding_window = window;
    group.layers = std::move(layers);
  }
  return config;
}

int GroupOfLayer(const kvcache::KvCacheConfig& config, int layer) {
  for (size_t g = 0; g < config.groups.size(); ++g) {
    const auto& layers = config.groups[g].layers;
    if (std::find(layers.begin(), layers.end(), layer) != layers.end()) return static_cast<int>(g);
  }
  STRIDE_CHECK(false) << "layer " << layer << " is in no KV-cache group";
  return -1;
}

}  // namespace stride::engine::runner
