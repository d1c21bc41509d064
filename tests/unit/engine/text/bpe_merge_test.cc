#include "engine/text/bpe_merge.h"

#include <chrono>
#include <vector>

#include "gtest/gtest.h"

namespace stride::engine::text {
namespace {

// ids: a=0 b=1 c=2 ab=3 bc=4 aa=5 aaaa=6 abc=7
TEST(BpeMergeTest, LowestRankFirst) {
  MergeMap merges;
  merges[PairKey(1, 2)] = {0, 4};  // b c -> bc (rank 0)
  merges[PairKey(0, 1)] = {1, 3};  // a b -> ab (rank 1)
  std::vector<int32_t> symbols = {0, 1, 2};
  ApplyMerges(merges, &symbols);
  EXPECT_EQ(symbols, (std::vector<int32_t>{0, 4}));  // "a" "bc": bc won, ab never formed
}

TEST(BpeMergeTest, MergesResultsFurther) {
  MergeMap merges;
  merges[PairKey(0, 1)] = {0, 3};  // a b -> ab
  merges[PairKey(3, 2)] = {1, 7};  // ab c -> abc
  std::vector<int32_t> symbols = {0, 1, 2, 0, 1};
  ApplyMerges(merges, &symbols);
  EXPECT_EQ(symbols, (std::vector<int32_t>{7, 3}));
}

TEST(BpeMergeTest, LeftmostAmongEqualRanks) {
  MergeMap merges;
  merges[PairKey(0, 0)] = {0, 5};  // a a -> aa
  std::vector<int32_t> symbols = {0, 0, 0};
  ApplyMerges(merges, &symbols);
  EXPECT_EQ(symbols, (std::vector<int32_t>{5, 0}));
}

TEST(BpeMergeTest, VeryLongWordIsNotQuadratic) {
  MergeMap merges;
  merges[PairKey(0, 0)] = {0, 5};  // a a -> aa
  merges[PairKey(5, 5)] = {1, 6};  // aa aa -> aaaa
  std::vector<int32_t> symbols(400000, 0);
  const auto start = std::chrono::steady_clock::now();
  ApplyMerges(merges, &symbols);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(symbols.size(), 100000u);
  for (int32_t id : symbols) ASSERT_EQ(id, 6);
  // A quadratic loop needs minutes here; n log n takes well under a second.
  EXPECT_LT(seconds, 5.0);
}

}  // namespace
}  // namespace stride::engine::text
