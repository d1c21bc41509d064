#include "kvcache/kv_cache_manager.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace stride::kvcache {

namespace {

int CeilDiv(int a, int b) { return (a + b - 1) / b; }

std::vector<KvCacheGroup> EffectiveGroups(const KvCacheConfig& config) {
  if (!config.groups.empty()) return config.groups;
  return {KvCacheGroup{}};  // one full-attention group
}

}  // namespace

absl::Status ValidateKvCacheConfig(const KvCacheConfig& config) {
  if (config.block_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("kv cache: block_size must be >= 1, got ", config.block_size));
  }
  if (config.num_blocks < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kv cache: num_blocks must be >= 2 (the null block and one usable block), got ",
        config.num_blocks));
  }
  for (size_t g = 0; g < config.groups.size(); ++g) {
    const KvCacheGroup& group = config.groups[g];
    if (group.kind == AttentionKind::kSlidingWindow && group.sliding_window < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "kv cache: group ", g, " is sliding-window but sliding_window = ", group.sliding_window,
          " (must be >= 1)"));
    }
  }
  return absl::OkStatus();
}

namespace {

// The config comes from the engine, which validated it when parsing flags or files.
int CheckedNumBlocks(const KvCacheConfig& config) {
  absl::Status status = ValidateKvCacheConfig(config);
  STRIDE_CHECK(status.ok()) << status.message();
  return config.num_blocks;
}

}  // namespace

KvCacheManager::KvCacheManager(const KvCacheConfig& config)
    : block_size_(config.block_size),
      groups_(EffectiveGroups(config)),
      prefix_caching_active_(config.enable_prefix_caching),
      pool_(CheckedNumBlocks(config)),
      empty_tables_(groups_.size()) {
  for (const KvCacheGroup& group : groups_) {
    if (group.kind != AttentionKind::kFull) prefix_caching_active_ = false;
  }
}

KvCacheManager::RequestBlocks& KvCacheManager::GetOrCreate(RequestId id) {
  auto [it, inserted] = requests_.try_emplace(id);
  if (inserted) {
    it->second.tables.resize(groups_.size());
    it->second.num_registered.assign(groups_.size(), 0);
    it->second.root = RootBlockHash(0);
  }
  return it->second;
}

const BlockHash& KvCacheManager::HashOf(RequestBlocks& blocks, std::span<const int32_t> token_ids,
                                        int index) {
  while (static_cast<int>(blocks.hashes.size()) <= index) {
    int i = static_cast<int>(blocks.hashes.size());
    const BlockHash& parent = i == 0 ? blocks.root : blocks.hashes[i - 1];
    blocks.hashes.push_back(HashBlock(parent, token_ids.subspan(i * block_size_, block_size_)));
  }
  return blocks.hashes[index];
}

int KvCacheManager::GetComputedBlocks(RequestId id, std::span<const int32_t> token_ids,
                                      uint64_t extra_key) {
  RequestBlocks& blocks = GetOrCreate(id);
  for (const auto& table : blocks.tables) {
    STRIDE_CHECK(table.empty()) << "GetComputedBlocks for request " << id << " holding blocks";
  }
  blocks.root = RootBlockHash(extra_key);
  blocks.hashes.clear();
  if (!prefix_caching_active_ || token_ids.empty()) return 0;

  const int num_tokens = static_cast<int>(token_ids.size());
  const int max_blocks = num_tokens / block_size_;
  const int num_groups = static_cast<int>(groups_.size());
  int num_hits = 0;
  for (; num_hits < max_blocks; ++num_hits) {
    const BlockHash& hash = HashOf(blocks, token_ids, num_hits);
    bool all_groups_hit = true;
    for (int g = 0; g < num_groups && all_groups_hit; ++g) {
      all_groups_hit = pool_.Lookup(BlockKey{hash, g}).has_value();
    }
    if (!all_groups_hit) break;
  }
  for (int g = 0; g < num_groups; ++g) {
    for (int i = 0; i < num_hits; ++i) {
      BlockId block = *pool_.Lookup(BlockKey{blocks.hashes[i], g});
      pool_.Touch(block);
      blocks.tables[g].push_back(block);
    }
    blocks.num_registered[g] = num_hits;
  }
  const int num_cached_tokens = std::min(num_hits * block_size_, num_tokens - 1);
  ++stats_.num_queries;
  stats_.num_query_tokens += num_tokens;
  stats_.num_hit_tokens += num_cached_tokens;
  return num_cached_tokens;
}

int KvCacheManager::FirstVisibleBlock(int g, int position) const {
  return std::max(0, position - groups_[g].sliding_window + 1) / block_size_;
}

int KvCacheManager::CountSkipped(const RequestBlocks& blocks, int g,
                                 int num_computed_tokens) const {
  if (groups_[g].kind != AttentionKind::kSlidingWindow) return 0;
  const std::vector<BlockId>& table = blocks.tables[g];
  int end = std::min<int>(FirstVisibleBlock(g, num_computed_tokens), table.size());
  int count = 0;
  // Earlier blocks were released by an earlier call: stop at the first null block.
  for (int i = end - 1; i >= 0 && table[i] != kNullBlock; --i) {
    if (pool_.ref_count(table[i]) == 1) ++count;
  }
  return count;
}

void KvCacheManager::ReleaseSkipped(RequestBlocks& blocks, int g, int num_computed_tokens) {
  if (groups_[g].kind != AttentionKind::kSlidingWindow) return;
  std::vector<BlockId>& table = blocks.tables[g];
  int end = std::min<int>(FirstVisibleBlock(g, num_computed_tokens), table.size());
  for (int i = end - 1; i >= 0 && table[i] != kNullBlock; --i) {
    pool_.Release(table[i]);
    table[i] = kNullBlock;
  }
}

bool KvCacheManager::AllocateSlots(RequestId id, std::span<const int32_t> token_ids,
                                   int num_computed_tokens, int num_new_tokens,
                                   int num_pending_tokens) {
  STRIDE_CHECK_GE(num_computed_tokens, 0);
  STRIDE_CHECK_GE(num_new_tokens, 0);
  STRIDE_CHECK_GE(num_pending_tokens, 0);
  const int num_tokens = num_computed_tokens + num_new_tokens;
  STRIDE_CHECK_LE(num_tokens, static_cast<int>(token_ids.size()) + num_pending_tokens)
      << "slots requested for tokens the request does not have yet";
  RequestBlocks& blocks = GetOrCreate(id);
  const int num_required = CeilDiv(num_tokens, block_size_);
  const int num_groups = static_cast<int>(groups_.size());

  int num_needed = 0;
  int num_releasable = 0;
  for (int g = 0; g < num_groups; ++g) {
    num_needed += std::max(0, num_required - static_cast<int>(blocks.tables[g].size()));
    num_releasable += CountSkipped(blocks, g, num_computed_tokens);
  }
  if (num_needed > pool_.num_free_blocks() + num_releasable) return false;

  // Every group releases before any allocates: the count above let one group's new blocks
  // come from what another group's window just left.
  for (int g = 0; g < num_groups; ++g) ReleaseSkipped(blocks, g, num_computed_tokens);
  for (int g = 0; g < num_groups; ++g) {
    std::vector<BlockId>& table = blocks.tables[g];
    int missing = num_required - static_cast<int>(table.size());
    if (missing > 0) pool_.Allocate(missing, &table);
  }
  return true;
}

void KvCacheManager::CacheFullBlocks(RequestId id, std::span<const int32_t> token_ids,
                                     int num_computed_tokens) {
  auto it = requests_.find(id);
  STRIDE_CHECK(it != requests_.end()) << "CacheFullBlocks for request " << id << " with no blocks";
  RequestBlocks& blocks = it->second;
  STRIDE_CHECK_LE(num_computed_tokens, static_cast<int>(token_ids.size()));
  const int num_groups = static_cast<int>(groups_.size());
  if (prefix_caching_active_) {
    const int num_full = num_computed_tokens / block_size_;
    for (int g = 0; g < num_groups; ++g) {
      std::vector<BlockId>& table = blocks.tables[g];
      const int end = std::min<int>(num_full, table.size());
      for (int i = blocks.num_registered[g]; i < end; ++i) {
        pool_.Cache(table[i], BlockKey{HashOf(blocks, token_ids, i), g});
      }
      blocks.num_registered[g] = std::max(blocks.num_registered[g], end);
    }
  }
  for (int g = 0; g < num_groups; ++g) ReleaseSkipped(blocks, g, num_computed_tokens);
}

void KvCacheManager::Free(RequestId id) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  for (std::vector<BlockId>& table : it->second.tables) {
    for (auto block = table.rbegin(); block != table.rend(); ++block) {
      if (*block != kNullBlock) pool_.Release(*block);
    }
  }
  requests_.erase(it);
}

const std::vector<std::vector<BlockId>>& KvCacheManager::BlockTables(RequestId id) const {
  auto it = requests_.find(id);
  return it == requests_.end() ? empty_tables_ : it->second.tables;
}

int KvCacheManager::BlocksNeeded(int num_tokens, int max_tokens_per_step) const {
  const int all = CeilDiv(num_tokens, block_size_);
  int total = 0;
  for (const KvCacheGroup& group : groups_) {
    if (group.kind == AttentionKind::kSlidingWindow) {
      // Live during a step computing k tokens from position c: blocks overlapping
      // [c - window + 1, c + k), at most ceil((window - 1 + k) / block_size) + 1 of them.
      const int step = std::min(num_tokens, max_tokens_per_step);
      total += std::min(all, CeilDiv(group.sliding_window - 1 + step, block_size_) + 1);
    } else {
      total += all;
    }
  }
  return total;
}

double KvCacheManager::usage() const {
  const int total = num_total_blocks();
  return static_cast<double>(total - num_free_blocks()) / total;
}

}  // namespace stride::kvcache
