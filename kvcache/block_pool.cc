#include "kvcache/block_pool.h"

#include "base/check.h"

namespace stride::kvcache {

BlockPool::BlockPool(int num_blocks)
    : ref_counts_(num_blocks, 0),
      prev_(num_blocks, kNone),
      next_(num_blocks, kNone),
      keys_(num_blocks),
      is_cached_(num_blocks, 0) {
  STRIDE_CHECK_GE(num_blocks, 2) << "the pool needs the null block and at least one more";
  ref_counts_[kNullBlock] = 1;  // permanently held, so it can never reach the free list
  cache_.reserve(num_blocks);   // at most one key per block: the map never rehashes mid-step
  for (BlockId b = 1; b < num_blocks; ++b) PushBackFree(b);
}

void BlockPool::PushBackFree(BlockId block) {
  prev_[block] = tail_;
  next_[block] = kNone;
  if (tail_ == kNone) {
    head_ = block;
  } else {
    next_[tail_] = block;
  }
  tail_ = block;
  ++num_free_;
}

void BlockPool::Unlink(BlockId block) {
  BlockId p = prev_[block];
  BlockId n = next_[block];
  if (p == kNone) {
    head_ = n;
  } else {
    next_[p] = n;
  }
  if (n == kNone) {
    tail_ = p;
  } else {
    prev_[n] = p;
  }
  prev_[block] = next_[block] = kNone;
  --num_free_;
}

void BlockPool::Uncache(BlockId block) {
  if (!is_cached_[block]) return;
  cache_.erase(keys_[block]);
  is_cached_[block] = 0;
}

void BlockPool::Allocate(int n, std::vector<BlockId>* out) {
  STRIDE_CHECK_LE(n, num_free_) << "callers check num_free_blocks() first";
  for (int i = 0; i < n; ++i) {
    BlockId block = head_;
    Unlink(block);
    Uncache(block);
    STRIDE_CHECK_EQ(ref_counts_[block], 0);
    ref_counts_[block] = 1;
    out->push_back(block);
  }
}

void BlockPool::Touch(BlockId block) {
  STRIDE_CHECK(block != kNullBlock) << "the null block is never shared";
  if (ref_counts_[block] == 0) Unlink(block);
  ++ref_counts_[block];
}

void BlockPool::Release(BlockId block) {
  STRIDE_CHECK(block != kNullBlock) << "the null block is never released";
  STRIDE_CHECK_GE(ref_counts_[block], 1) << "block " << block << " released twice";
  if (--ref_counts_[block] == 0) PushBackFree(block);
}

std::optional<BlockId> BlockPool::Lookup(const BlockKey& key) const {
  auto it = cache_.find(key);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

bool BlockPool::Cache(BlockId block, const BlockKey& key) {
  STRIDE_CHECK(block != kNullBlock);
  STRIDE_CHECK_GE(ref_counts_[block], 1) << "only blocks in use are registered";
  if (is_cached_[block]) return false;
  if (!cache_.emplace(key, block).second) return false;
  keys_[block] = key;
  is_cached_[block] = 1;
  return true;
}

std::vector<BlockId> BlockPool::FreeListForTesting() const {
  std::vector<BlockId> blocks;
  for (BlockId b = head_; b != kNone; b = next_[b]) blocks.push_back(b);
  return blocks;
}

}  // namespace stride::kvcache
