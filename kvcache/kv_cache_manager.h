// KvCacheManager: the one object the scheduler talks to about KV memory. It answers three
// questions — which prefix of a prompt is already cached, can k more tokens of a request get
// slots (or must someone be preempted), and give a request's blocks back — and keeps each
// request's block tables (one per KV-cache group) for the runners to read.
//
// Groups. Every group of layers has its own block table per request, all drawing on one shared
// BlockPool (a block id means "this group's layers' KV at this block index"). A kFull group
// keeps every block. A kSlidingWindow group frees blocks that no future query can see: once a
// request has computed c tokens, its next query sits at position c and sees
// [c - sliding_window + 1, c], so blocks lying wholly before that start are released and become
// kNullBlock in its table. Under chunked prefill this is exactly what the next chunk's first
// query needs; later queries of the chunk only look further right.
//
// Prefix caching covers kFull groups only: when any group is a sliding-window group, lookups
// return no hit and nothing is registered (a hit would also need the window's blocks, which the
// sliding-window group has freed). A prompt reuses the longest run of cached full blocks but
// always leaves at least one token to compute so the runner can produce logits; when every
// block of a block-aligned prompt hits, only the last token is recomputed, and the runner
// writes that token's K/V (the same values) again into the shared last block.
//
// Room for S2-sparse groups (design only): such a group would hold, per request, one table per
// KV head instead of one. A head's table keeps its local window plus the blocks on its own
// stride ((b + h * head_sliding_step + offset) % vert_stride == 0) and turns every other block
// that left the local window into kNullBlock, like the sliding-window rule applied per head.
// BlockTables would then grow a head dimension for that group; allocation counts stay per head.
//
// Not thread-safe: the engine loop thread owns it (see ARCHITECTURE.md, Threads).
#pragma once

#include <climits>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "kvcache/block.h"
#include "kvcache/block_hash.h"
#include "kvcache/block_pool.h"

namespace stride::kvcache {

// Checks a user-supplied cache shape. An empty `groups` means one full-attention group.
absl::Status ValidateKvCacheConfig(const KvCacheConfig& config);

// Prefix-cache counters for metrics, in tokens. Counted per lookup: a request that cannot be
// admitted is looked up again at each step it stays at the head of the queue.
struct PrefixCacheStats {
  int64_t num_queries = 0;       // GetComputedBlocks calls
  int64_t num_query_tokens = 0;  // prompt tokens looked up
  int64_t num_hit_tokens = 0;    // of those, found in the cache (and not recomputed)
};

class KvCacheManager {
 public:
  using RequestId = uint64_t;  // the scheduler's request id; kvcache/ does not depend on it

  // `config` must pass ValidateKvCacheConfig (checked).
  explicit KvCacheManager(const KvCacheConfig& config);

  KvCacheManager(const KvCacheManager&) = delete;
  KvCacheManager& operator=(const KvCacheManager&) = delete;

  // For a request holding no blocks: attaches (ref++) the longest run of cached full blocks of
  // `token_ids`, capped so at least one token is left to compute, and returns how many tokens
  // they cover. `extra_key` (0: none) keeps caches apart that must not share blocks (LoRA
  // adapter, tenant salt). Returns 0 when prefix caching is off.
  int GetComputedBlocks(RequestId id, std::span<const int32_t> token_ids, uint64_t extra_key = 0);

  // Makes sure the request has slots for tokens [0, num_computed_tokens + num_new_tokens),
  // first releasing sliding-window blocks that no query at or after num_computed_tokens sees.
  // The last `num_pending_tokens` of those tokens may be missing from token_ids (still being
  // sampled: asynchronous scheduling). Returns false, changing nothing, when the pool has too
  // few free blocks: the caller must preempt someone (or wait).
  bool AllocateSlots(RequestId id, std::span<const int32_t> token_ids, int num_computed_tokens,
                     int num_new_tokens, int num_pending_tokens = 0);

  // After a step: registers the request's newly full and computed blocks in the prefix cache
  // and releases sliding-window blocks that fell out of the window.
  void CacheFullBlocks(RequestId id, std::span<const int32_t> token_ids, int num_computed_tokens);

  // Returns all the request's blocks (ref--), last block first, so that among its cached
  // blocks the later ones of a prefix are evicted before the earlier ones. No-op if it has none.
  void Free(RequestId id);

  // Per group, in config order. Empty tables for a request holding no blocks. Valid until the
  // next call that adds or frees a request: copy what must outlive that.
  const std::vector<std::vector<BlockId>>& BlockTables(RequestId id) const;

  // Blocks (all groups together) a request of `num_tokens` tokens holds at its peak, when no
  // step computes more than `max_tokens_per_step` of its tokens. For admission: a request whose
  // need exceeds num_total_blocks() can never run.
  int BlocksNeeded(int num_tokens, int max_tokens_per_step = INT_MAX) const;

  int num_free_blocks() const { return pool_.num_free_blocks(); }
  int num_total_blocks() const { return pool_.num_usable_blocks(); }  // the null block excluded
  double usage() const;  // fraction of usable blocks in use, in [0, 1]

  int block_size() const { return block_size_; }
  int num_groups() const { return static_cast<int>(groups_.size()); }
  const std::vector<KvCacheGroup>& groups() const { return groups_; }
  bool prefix_caching_active() const { return prefix_caching_active_; }
  const PrefixCacheStats& prefix_cache_stats() const { return stats_; }
  const BlockPool& block_pool() const { return pool_; }

 private:
  struct RequestBlocks {
    std::vector<std::vector<BlockId>> tables;  // per group
    BlockHash root;
    std::vector<BlockHash> hashes;    // hashes of the request's first full blocks, in order
    std::vector<int> num_registered;  // per group: leading table entries already offered to cache
  };

  RequestBlocks& GetOrCreate(RequestId id);
  // Index of the first block a query at `position` may still see in sliding-window group `g`.
  int FirstVisibleBlock(int g, int position) const;
  // How many blocks ReleaseSkipped(g, ...) would return to the free list.
  int CountSkipped(const RequestBlocks& blocks, int g, int num_computed_tokens) const;
  void ReleaseSkipped(RequestBlocks& blocks, int g, int num_computed_tokens);
  const BlockHash& HashOf(RequestBlocks& blocks, std::span<const int32_t> token_ids, int index);

  int block_size_;
  std::vector<KvCacheGroup> groups_;
  bool prefix_caching_active_;
  BlockPool pool_;
  absl::flat_hash_map<RequestId, RequestBlocks> requests_;
  std::vector<std::vector<BlockId>> empty_tables_;
  PrefixCacheStats stats_;
};

}  // namespace stride::kvcache
