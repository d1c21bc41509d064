#include "kvcache/block_hash.h"

#include <vector>

#include "gtest/gtest.h"

namespace stride::kvcache {
namespace {

TEST(BlockHashTest, EqualInputsGiveEqualHashes) {
  std::vector<int32_t> tokens = {1, 2, 3, 4};
  BlockHash root = RootBlockHash(0);
  EXPECT_EQ(HashBlock(root, tokens), HashBlock(root, tokens));
  EXPECT_EQ(RootBlockHash(7), RootBlockHash(7));
}

TEST(BlockHashTest, ParentTokensAndOrderAllMatter) {
  BlockHash root = RootBlockHash(0);
  std::vector<int32_t> a = {1, 2, 3, 4};
  std::vector<int32_t> b = {1, 2, 3, 5};
  std::vector<int32_t> swapped = {2, 1, 3, 4};
  BlockHash ha = HashBlock(root, a);
  EXPECT_FALSE(ha == HashBlock(root, b));
  EXPECT_FALSE(ha == HashBlock(root, swapped));
  // Same block tokens under another parent: another prefix, another hash.
  EXPECT_FALSE(HashBlock(ha, a) == HashBlock(HashBlock(root, b), a));
  EXPECT_FALSE(HashBlock(root, a) == HashBlock(RootBlockHash(1), a));
}

TEST(BlockHashTest, BothHalvesAreUsed) {
  BlockHash h = HashBlock(RootBlockHash(0), std::vector<int32_t>{9, 9, 9});
  EXPECT_NE(h.low, 0u);
  EXPECT_NE(h.high, 0u);
  EXPECT_NE(h.low, h.high);
}

TEST(BlockHashTest, KeysDifferByGroup) {
  BlockHash h = HashBlock(RootBlockHash(0), std::vector<int32_t>{1});
  EXPECT_FALSE((BlockKey{h, 0} == BlockKey{h, 1}));
  EXPECT_TRUE((BlockKey{h, 1} == BlockKey{h, 1}));
}

}  // namespace
}  // namespace stride::kvcache
