#include "kvcache/kv_cache_manager.h"

#include <algorithm>
#include <numeric>
#include <set>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stride::kvcache {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<int32_t> Tokens(int n, int32_t first = 100) {
  std::vector<int32_t> tokens(n);
  std::iota(tokens.begin(), tokens.end(), first);
  return tokens;
}

KvCacheConfig FullConfig(int num_blocks, int block_size = 16) {
  KvCacheConfig config;
  config.block_size = block_size;
  config.num_blocks = num_blocks;
  return config;
}

// Every test frees what it allocated; the pool must then be whole again.
class KvCacheManagerTest : public ::testing::Test {
 protected:
  void Make(const KvCacheConfig& config) { manager_ = std::make_unique<KvCacheManager>(config); }

  // Runs a whole prompt through: lookup, allocate, "compute", register. Returns cached tokens.
  int Prefill(uint64_t id, const std::vector<int32_t>& tokens) {
    int cached = manager_->GetComputedBlocks(id, tokens);
    EXPECT_TRUE(manager_->AllocateSlots(id, tokens, cached, tokens.size() - cached));
    manager_->CacheFullBlocks(id, tokens, tokens.size());
    return cached;
  }

  void TearDown() override {
    for (uint64_t id = 0; id < 64; ++id) manager_->Free(id);
    EXPECT_EQ(manager_->num_free_blocks(), manager_->num_total_blocks());
  }

  std::unique_ptr<KvCacheManager> manager_;
};

TEST_F(KvCacheManagerTest, AllocatesDistinctNonNullBlocksPerGroup) {
  Make(FullConfig(32, 4));
  std::vector<int32_t> tokens = Tokens(10);
  ASSERT_TRUE(manager_->AllocateSlots(1, tokens, 0, 10));
  const auto& tables = manager_->BlockTables(1);
  ASSERT_EQ(tables.size(), 1u);
  ASSERT_EQ(tables[0].size(), 3u);  // ceil(10 / 4)
  std::set<BlockId> distinct(tables[0].begin(), tables[0].end());
  EXPECT_EQ(distinct.size(), 3u);
  EXPECT_EQ(distinct.count(kNullBlock), 0u);
  EXPECT_EQ(manager_->num_free_blocks(), 31 - 3);
  EXPECT_NEAR(manager_->usage(), 3.0 / 31, 1e-12);
  // Growing within the last block needs nothing; crossing into a new one needs one block.
  tokens.push_back(1);
  tokens.push_back(2);
  ASSERT_TRUE(manager_->AllocateSlots(1, tokens, 10, 2));
  EXPECT_EQ(manager_->BlockTables(1)[0].size(), 3u);
  tokens.push_back(3);
  ASSERT_TRUE(manager_->AllocateSlots(1, tokens, 12, 1));
  EXPECT_EQ(manager_->BlockTables(1)[0].size(), 4u);
  manager_->Free(1);
  EXPECT_TRUE(manager_->BlockTables(1)[0].empty());
}

TEST_F(KvCacheManagerTest, RepeatedPromptComputesOnlyItsLastPartialBlock) {
  Make(FullConfig(64));
  std::vector<int32_t> prompt = Tokens(40);
  EXPECT_EQ(Prefill(1, prompt), 0);
  std::vector<BlockId> first = manager_->BlockTables(1)[0];
  manager_->Free(1);
  // The two full blocks stay cached on the free list; the partial third does not count.
  EXPECT_EQ(manager_->GetComputedBlocks(2, prompt), 32);
  EXPECT_THAT(manager_->BlockTables(2)[0], ElementsAre(first[0], first[1]));
  ASSERT_TRUE(manager_->AllocateSlots(2, prompt, 32, 8));
  EXPECT_EQ(manager_->BlockTables(2)[0].size(), 3u);
  const PrefixCacheStats& stats = manager_->prefix_cache_stats();
  EXPECT_EQ(stats.num_queries, 2);
  EXPECT_EQ(stats.num_query_tokens, 80);
  EXPECT_EQ(stats.num_hit_tokens, 32);
}

TEST_F(KvCacheManagerTest, BlockAlignedRepeatedPromptRecomputesOnlyTheLastToken) {
  Make(FullConfig(64));
  std::vector<int32_t> prompt = Tokens(32);
  Prefill(1, prompt);
  std::vector<BlockId> first = manager_->BlockTables(1)[0];
  manager_->Free(1);
  EXPECT_EQ(manager_->GetComputedBlocks(2, prompt), 31);
  EXPECT_EQ(manager_->BlockTables(2)[0], first);
  const int free_before = manager_->num_free_blocks();
  ASSERT_TRUE(manager_->AllocateSlots(2, prompt, 31, 1));
  EXPECT_EQ(manager_->num_free_blocks(), free_before);  // the last token's slot is in a hit block
  EXPECT_EQ(manager_->BlockTables(2)[0], first);
}

TEST_F(KvCacheManagerTest, LiveRequestsShareHitBlocksByRefCount) {
  Make(FullConfig(64));
  std::vector<int32_t> prompt = Tokens(20);
  Prefill(1, prompt);
  BlockId shared = manager_->BlockTables(1)[0][0];
  EXPECT_EQ(manager_->GetComputedBlocks(2, prompt), 16);
  EXPECT_EQ(manager_->BlockTables(2)[0][0], shared);
  EXPECT_EQ(manager_->block_pool().ref_count(shared), 2);
  manager_->Free(1);
  EXPECT_EQ(manager_->block_pool().ref_count(shared), 1);
  manager_->Free(2);
  EXPECT_EQ(manager_->block_pool().ref_count(shared), 0);
  EXPECT_TRUE(manager_->block_pool().is_cached(shared));
}

TEST_F(KvCacheManagerTest, DivergingPromptsShareOnlyTheCommonBlocks) {
  Make(FullConfig(64, 4));
  std::vector<int32_t> a = Tokens(12);
  std::vector<int32_t> b = a;
  b[6] = 999;  // second block differs
  Prefill(1, a);
  EXPECT_EQ(manager_->GetComputedBlocks(2, b), 4);
  // A later block equal to a's does not hit: its parent differs.
  std::vector<int32_t> c = a;
  c[0] = 999;
  EXPECT_EQ(manager_->GetComputedBlocks(3, c), 0);
  // A different extra key (LoRA adapter, tenant salt) never shares.
  EXPECT_EQ(manager_->GetComputedBlocks(4, a, /*extra_key=*/7), 0);
}

TEST_F(KvCacheManagerTest, OnlyComputedFullBlocksBecomeCached) {
  Make(FullConfig(64, 4));
  std::vector<int32_t> prompt = Tokens(12);
  ASSERT_EQ(manager_->GetComputedBlocks(1, prompt), 0);
  ASSERT_TRUE(manager_->AllocateSlots(1, prompt, 0, 6));
  manager_->CacheFullBlocks(1, prompt, 6);  // one full block computed, the second half done
  EXPECT_EQ(manager_->block_pool().num_cached_blocks(), 1);
  EXPECT_EQ(manager_->GetComputedBlocks(2, prompt), 4);
  manager_->Free(2);
  ASSERT_TRUE(manager_->AllocateSlots(1, prompt, 6, 6));
  manager_->CacheFullBlocks(1, prompt, 12);
  EXPECT_EQ(manager_->block_pool().num_cached_blocks(), 3);
  EXPECT_EQ(manager_->GetComputedBlocks(3, prompt), 11);
}

TEST_F(KvCacheManagerTest, EvictsLeastRecentlyFreedAndLaterBlocksOfAPrefixFirst) {
  Make(FullConfig(7, 4));  // 6 usable blocks
  std::vector<int32_t> a = Tokens(12, 0);
  std::vector<int32_t> b = Tokens(12, 500);
  Prefill(1, a);
  manager_->Free(1);  // a's blocks freed first: last block first on the free list
  Prefill(2, b);
  manager_->Free(2);
  EXPECT_EQ(manager_->block_pool().num_cached_blocks(), 6);
  // Two fresh blocks evict the two least recently freed: a's last two blocks.
  ASSERT_TRUE(manager_->AllocateSlots(3, Tokens(8, 9000), 0, 8));
  EXPECT_EQ(manager_->block_pool().num_cached_blocks(), 4);
  EXPECT_EQ(manager_->GetComputedBlocks(4, a), 4);
  EXPECT_EQ(manager_->GetComputedBlocks(5, b), 11);
}

TEST_F(KvCacheManagerTest, FailedAllocationChangesNothing) {
  Make(FullConfig(6, 4));  // 5 usable
  std::vector<int32_t> a = Tokens(12);
  Prefill(1, a);
  std::vector<BlockId> free_list = manager_->block_pool().FreeListForTesting();
  const int free_before = manager_->num_free_blocks();
  std::vector<int32_t> big = Tokens(9, 7000);
  EXPECT_FALSE(manager_->AllocateSlots(2, big, 0, 9));  // needs 3, 2 free
  EXPECT_EQ(manager_->num_free_blocks(), free_before);
  EXPECT_EQ(manager_->block_pool().FreeListForTesting(), free_list);
  EXPECT_TRUE(manager_->BlockTables(2)[0].empty());
  EXPECT_TRUE(manager_->AllocateSlots(2, big, 0, 8));  // 2 blocks do fit
  EXPECT_EQ(manager_->num_free_blocks(), 0);
}

TEST_F(KvCacheManagerTest, DisabledPrefixCachingNeverHits) {
  KvCacheConfig config = FullConfig(32, 4);
  config.enable_prefix_caching = false;
  Make(config);
  std::vector<int32_t> prompt = Tokens(12);
  EXPECT_EQ(Prefill(1, prompt), 0);
  manager_->Free(1);
  EXPECT_EQ(manager_->GetComputedBlocks(2, prompt), 0);
  EXPECT_EQ(manager_->block_pool().num_cached_blocks(), 0);
}

KvCacheConfig SlidingConfig(int num_blocks, int block_size, int window, bool with_full) {
  KvCacheConfig config = FullConfig(num_blocks, block_size);
  if (with_full) config.groups.push_back(KvCacheGroup{AttentionKind::kFull, 0, {0}});
  config.groups.push_back(KvCacheGroup{AttentionKind::kSlidingWindow, window, {1}});
  return config;
}

TEST_F(KvCacheManagerTest, SlidingWindowFreesBlocksNoQueryCanSee) {
  Make(SlidingConfig(64, 16, 32, /*with_full=*/false));
  std::vector<int32_t> prompt = Tokens(100);
  ASSERT_TRUE(manager_->AllocateSlots(1, prompt, 0, 46));
  EXPECT_EQ(manager_->BlockTables(1)[0].size(), 3u);
  // Next query at 46 sees [15, 46]: token 15 is in block 0, keep everything.
  manager_->CacheFullBlocks(1, prompt, 46);
  EXPECT_EQ(std::count(manager_->BlockTables(1)[0].begin(), manager_->BlockTables(1)[0].end(),
                       kNullBlock),
            0);
  // Next query at 47 sees [16, 47]: block 0 (tokens 0..15) is gone.
  ASSERT_TRUE(manager_->AllocateSlots(1, prompt, 46, 1));
  manager_->CacheFullBlocks(1, prompt, 47);
  BlockId block1 = manager_->BlockTables(1)[0][1];
  EXPECT_EQ(manager_->BlockTables(1)[0][0], kNullBlock);
  EXPECT_NE(block1, kNullBlock);
  EXPECT_EQ(manager_->num_free_blocks(), 63 - 2);
  // A chunk from 64: its first query sees [33, 64], so blocks 0 and 1 are dropped before the
  // new blocks are taken; the table still covers every position of the chunk.
  ASSERT_TRUE(manager_->AllocateSlots(1, prompt, 47, 17));
  ASSERT_TRUE(manager_->AllocateSlots(1, prompt, 64, 36));
  const auto& table = manager_->BlockTables(1)[0];
  EXPECT_EQ(table.size(), 7u);
  EXPECT_EQ(table[0], kNullBlock);
  EXPECT_EQ(table[1], kNullBlock);
  for (int i = 2; i < 7; ++i) EXPECT_NE(table[i], kNullBlock) << i;
  EXPECT_EQ(manager_->num_free_blocks(), 63 - 5);
}

TEST_F(KvCacheManagerTest, SlidingWindowReleasesCountTowardAFullPool) {
  Make(SlidingConfig(5, 4, 4, /*with_full=*/false));  // 4 usable
  std::vector<int32_t> tokens = Tokens(20);
  ASSERT_TRUE(manager_->AllocateSlots(1, tokens, 0, 16));
  EXPECT_EQ(manager_->num_free_blocks(), 0);
  // The query at 16 sees [13, 16]: blocks 0..2 can go, so a fifth block fits.
  EXPECT_TRUE(manager_->AllocateSlots(1, tokens, 16, 4));
  EXPECT_THAT(manager_->BlockTables(1)[0],
              ElementsAre(kNullBlock, kNullBlock, kNullBlock, ::testing::Ne(kNullBlock),
                          ::testing::Ne(kNullBlock)));
  EXPECT_EQ(manager_->num_free_blocks(), 2);
}

TEST_F(KvCacheManagerTest, HybridGroupsTakeNewBlocksFromWhatTheWindowLeaves) {
  Make(SlidingConfig(7, 4, 4, /*with_full=*/true));  // 6 usable
  std::vector<int32_t> tokens = Tokens(16);
  ASSERT_TRUE(manager_->AllocateSlots(1, tokens, 0, 12));  // 3 blocks in each group
  EXPECT_EQ(manager_->num_free_blocks(), 0);
  // The query at 12 sees [9, 12]: the window group's blocks 0 and 1 go, and pay for the full
  // group's fourth block and the window group's own.
  ASSERT_TRUE(manager_->AllocateSlots(1, tokens, 12, 1));
  const auto& tables = manager_->BlockTables(1);
  EXPECT_EQ(std::count(tables[0].begin(), tables[0].end(), kNullBlock), 0);
  EXPECT_EQ(tables[0].size(), 4u);
  EXPECT_THAT(tables[1], ElementsAre(kNullBlock, kNullBlock, ::testing::Ne(kNullBlock),
                                     ::testing::Ne(kNullBlock)));
  EXPECT_EQ(manager_->num_free_blocks(), 0);
}

TEST_F(KvCacheManagerTest, HybridGroupsKeepSeparateTablesAndDisablePrefixHits) {
  Make(SlidingConfig(64, 4, 4, /*with_full=*/true));
  EXPECT_FALSE(manager_->prefix_caching_active());
  std::vector<int32_t> prompt = Tokens(12);
  EXPECT_EQ(Prefill(1, prompt), 0);
  const auto& tables = manager_->BlockTables(1);
  ASSERT_EQ(tables.size(), 2u);
  EXPECT_EQ(tables[0].size(), 3u);
  EXPECT_EQ(std::count(tables[0].begin(), tables[0].end(), kNullBlock), 0);
  EXPECT_THAT(tables[1], ElementsAre(kNullBlock, kNullBlock, ::testing::Ne(kNullBlock)));
  std::set<BlockId> all(tables[0].begin(), tables[0].end());
  all.insert(tables[1][2]);
  EXPECT_EQ(all.size(), 4u);  // groups never share a physical block
  manager_->Free(1);
  EXPECT_EQ(manager_->GetComputedBlocks(2, prompt), 0);
}

TEST_F(KvCacheManagerTest, BlocksNeededBoundsThePeak) {
  Make(SlidingConfig(64, 16, 32, /*with_full=*/true));
  // Full group: ceil(100 / 16) = 7. Window group, whole request in one step: 7 as well.
  EXPECT_EQ(manager_->BlocksNeeded(100), 14);
  // Window group with steps of at most 16 tokens: ceil((31 + 16) / 16) + 1 = 4.
  EXPECT_EQ(manager_->BlocksNeeded(100, 16), 7 + 4);
  EXPECT_EQ(manager_->BlocksNeeded(1, 16), 2);
  Make(FullConfig(8, 16));
  EXPECT_EQ(manager_->BlocksNeeded(16), 1);
  EXPECT_EQ(manager_->BlocksNeeded(17), 2);
  EXPECT_EQ(manager_->num_total_blocks(), 7);
}

TEST(KvCacheConfigTest, RejectsBadShapes) {
  KvCacheConfig config = FullConfig(10);
  EXPECT_TRUE(ValidateKvCacheConfig(config).ok());
  config.block_size = 0;
  EXPECT_THAT(ValidateKvCacheConfig(config).message(), HasSubstr("block_size"));
  config = FullConfig(1);
  EXPECT_THAT(ValidateKvCacheConfig(config).message(), HasSubstr("num_blocks"));
  config = SlidingConfig(10, 16, 0, false);
  EXPECT_THAT(ValidateKvCacheConfig(config).message(), HasSubstr("sliding_window"));
}

}  // namespace
}  // namespace stride::kvcache
