// Basic KV-cache vocabulary shared by kvcache/, scheduler/ and the runners: block ids, the null
// block, and the shape of the cache (block size, groups of layers).
#pragma once

#include <cstdint>
#include <vector>

namespace stride::kvcache {

using BlockId = int32_t;

// Block 0 is never handed out: block tables use it for positions that hold no KV (blocks that
// fell out of a sliding window). Runners never read it.
inline constexpr BlockId kNullBlock = 0;

enum class AttentionKind { kFull, kSlidingWindow };

// Layers of one attention kind share block tables.
struct KvCacheGroup {
  AttentionKind kind = AttentionKind::kFull;
  int sliding_window = 0;   // tokens a query sees, itself included (kSlidingWindow only)
  std::vector<int> layers;  // model layer indices in this group
};

struct KvCacheConfig {
  int block_size = 16;          // tokens per block
  int num_blocks = 0;           // physical blocks in the pool, the null block included
  bool enable_prefix_caching = true;
  std::vector<KvCacheGroup> groups;
};

}  // namespace stride::kvcache
