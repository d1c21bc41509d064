#include "kvcache/block_pool.h"

#include <algorithm>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stride::kvcache {
namespace {

using ::testing::ElementsAre;

BlockKey KeyFor(int32_t token) {
  return BlockKey{HashBlock(RootBlockHash(0), std::vector<int32_t>{token}), 0};
}

TEST(BlockPoolTest, NullBlockIsNeverHandedOut) {
  BlockPool pool(5);
  EXPECT_EQ(pool.num_usable_blocks(), 4);
  EXPECT_EQ(pool.num_free_blocks(), 4);
  std::vector<BlockId> blocks;
  pool.Allocate(4, &blocks);
  EXPECT_THAT(blocks, ElementsAre(1, 2, 3, 4));
  EXPECT_EQ(pool.num_free_blocks(), 0);
  for (BlockId b : blocks) pool.Release(b);
  EXPECT_EQ(pool.num_free_blocks(), 4);
  blocks.clear();
  pool.Allocate(4, &blocks);
  EXPECT_EQ(std::count(blocks.begin(), blocks.end(), kNullBlock), 0);
  for (BlockId b : blocks) pool.Release(b);
}

TEST(BlockPoolTest, RefCountsKeepSharedBlocksOffTheFreeList) {
  BlockPool pool(4);
  std::vector<BlockId> blocks;
  pool.Allocate(1, &blocks);
  BlockId b = blocks[0];
  EXPECT_EQ(pool.ref_count(b), 1);
  pool.Touch(b);
  EXPECT_EQ(pool.ref_count(b), 2);
  pool.Release(b);
  EXPECT_EQ(pool.ref_count(b), 1);
  EXPECT_EQ(pool.num_free_blocks(), 2);
  pool.Release(b);
  EXPECT_EQ(pool.ref_count(b), 0);
  EXPECT_EQ(pool.num_free_blocks(), 3);
}

TEST(BlockPoolTest, FreedBlocksAreReusedLeastRecentlyFreedFirst) {
  BlockPool pool(5);
  std::vector<BlockId> blocks;
  pool.Allocate(4, &blocks);
  pool.Release(3);
  pool.Release(1);
  pool.Release(4);
  pool.Release(2);
  EXPECT_THAT(pool.FreeListForTesting(), ElementsAre(3, 1, 4, 2));
  std::vector<BlockId> again;
  pool.Allocate(2, &again);
  EXPECT_THAT(again, ElementsAre(3, 1));
  EXPECT_THAT(pool.FreeListForTesting(), ElementsAre(4, 2));
  for (BlockId b : again) pool.Release(b);
  EXPECT_EQ(pool.num_free_blocks(), 4);
}

TEST(BlockPoolTest, CachedBlockSurvivesFreeUntilReused) {
  BlockPool pool(3);
  std::vector<BlockId> blocks;
  pool.Allocate(2, &blocks);
  ASSERT_TRUE(pool.Cache(blocks[0], KeyFor(10)));
  pool.Release(blocks[0]);
  pool.Release(blocks[1]);
  // Free but still cached: a later request can find it.
  EXPECT_EQ(pool.Lookup(KeyFor(10)), blocks[0]);
  EXPECT_TRUE(pool.is_cached(blocks[0]));
  // Reusing it (it is at the head of the free list) evicts it from the cache.
  std::vector<BlockId> reused;
  pool.Allocate(1, &reused);
  EXPECT_EQ(reused[0], blocks[0]);
  EXPECT_FALSE(pool.Lookup(KeyFor(10)).has_value());
  EXPECT_FALSE(pool.is_cached(blocks[0]));
  EXPECT_EQ(pool.num_cached_blocks(), 0);
  pool.Release(reused[0]);
  EXPECT_EQ(pool.num_free_blocks(), 2);
}

TEST(BlockPoolTest, TouchRevivesAFreeCachedBlockWithoutEvictingIt) {
  BlockPool pool(4);
  std::vector<BlockId> blocks;
  pool.Allocate(3, &blocks);
  ASSERT_TRUE(pool.Cache(blocks[1], KeyFor(5)));
  for (BlockId b : blocks) pool.Release(b);
  EXPECT_THAT(pool.FreeListForTesting(), ElementsAre(1, 2, 3));
  pool.Touch(2);
  EXPECT_THAT(pool.FreeListForTesting(), ElementsAre(1, 3));
  EXPECT_EQ(pool.Lookup(KeyFor(5)), 2);
  // Allocating everything free must not take block 2.
  std::vector<BlockId> rest;
  pool.Allocate(2, &rest);
  EXPECT_THAT(rest, ElementsAre(1, 3));
  EXPECT_EQ(pool.Lookup(KeyFor(5)), 2);
  pool.Release(2);
  for (BlockId b : rest) pool.Release(b);
  EXPECT_EQ(pool.num_free_blocks(), 3);
}

TEST(BlockPoolTest, FirstWriterOfAKeyWins) {
  BlockPool pool(4);
  std::vector<BlockId> blocks;
  pool.Allocate(2, &blocks);
  EXPECT_TRUE(pool.Cache(blocks[0], KeyFor(1)));
  EXPECT_FALSE(pool.Cache(blocks[1], KeyFor(1)));
  EXPECT_FALSE(pool.Cache(blocks[0], KeyFor(2)));  // already cached under another key
  EXPECT_EQ(pool.Lookup(KeyFor(1)), blocks[0]);
  EXPECT_FALSE(pool.Lookup(KeyFor(2)).has_value());
  EXPECT_FALSE(pool.is_cached(blocks[1]));
  for (BlockId b : blocks) pool.Release(b);
  EXPECT_EQ(pool.num_free_blocks(), 3);
}

TEST(BlockPoolDeathTest, DoubleReleaseIsAnInvariantViolation) {
  BlockPool pool(3);
  std::vector<BlockId> blocks;
  pool.Allocate(1, &blocks);
  pool.Release(blocks[0]);
  EXPECT_DEATH(pool.Release(blocks[0]), "released twice");
}

}  // namespace
}  // namespace stride::kvcache
