// The physical KV blocks of one engine: ref counts, the free list and the prefix-cache map.
// Only KvCacheManager uses it directly.
//
// Block 0 (kNullBlock) is never handed out. A block whose ref count drops to zero goes to the
// tail of the free list; allocation takes from the head, so among free blocks the one freed
// longest ago is reused (and, if it held a cached prefix block, evicted from the cache) first.
// A free block that is still cached can be revived by a prefix hit (Touch), which takes it off
// the free list without losing its contents. Metadata only: no tensors live here.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "kvcache/block.h"
#include "kvcache/block_hash.h"

namespace stride::kvcache {

class BlockPool {
 public:
  // `num_blocks` counts the null block too, so num_blocks - 1 blocks can be handed out.
  explicit BlockPool(int num_blocks);

  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  int num_blocks() const { return static_cast<int>(ref_counts_.size()); }
  int num_usable_blocks() const { return num_blocks() - 1; }
  int num_free_blocks() const { return num_free_; }

  // Takes `n` blocks (n <= num_free_blocks()) from the head of the free list, each with ref
  // count 1; cached ones leave the cache. Appends them to `out`.
  void Allocate(int n, std::vector<BlockId>* out);

  // One more holder of `block` (a prefix-cache hit). A free block leaves the free list.
  void Touch(BlockId block);

  // One holder fewer. At zero the block joins the tail of the free list, still cached if it was.
  void Release(BlockId block);

  // The cached block holding `key`, if any (free or in use).
  std::optional<BlockId> Lookup(const BlockKey& key) const;

  // Registers an in-use, full, computed block under `key`. Returns false (and changes nothing)
  // when another block already holds that key or `block` is already cached: the first writer
  // wins and this block simply stays uncached.
  bool Cache(BlockId block, const BlockKey& key);

  int ref_count(BlockId block) const { return ref_counts_[block]; }
  bool is_cached(BlockId block) const { return is_cached_[block] != 0; }
  int num_cached_blocks() const { return static_cast<int>(cache_.size()); }

  // The free list from head (next to be reused) to tail. For tests and debugging.
  std::vector<BlockId> FreeListForTesting() const;

 private:
  static constexpr BlockId kNone = -1;

  void PushBackFree(BlockId block);
  void Unlink(BlockId block);
  void Uncache(BlockId block);

  std::vector<int> ref_counts_;
  // Intrusive doubly linked free list (kNone terminated) for O(1) removal on a prefix hit.
  std::vector<BlockId> prev_;
  std::vector<BlockId> next_;
  BlockId head_ = kNone;
  BlockId tail_ = kNone;
  int num_free_ = 0;

  absl::flat_hash_map<BlockKey, BlockId> cache_;
  std::vector<BlockKey> keys_;  // per block: its key, valid while is_cached_
  std::vector<uint8_t> is_cached_;
};

}  // namespace stride::kvcache
