// Tests engine/sampling/logprobs.h against double-precision references.
#include "engine/sampling/logprobs.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace stride::engine::sampling {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<double> ReferenceLogSoftmax(const std::vector<float>& logits) {
  double max = -std::numeric_limits<double>::infinity();
  for (float x : logits) max = std::max<double>(max, x);
  double sum = 0.0;
  for (float x : logits) sum += std::exp(static_cast<double>(x) - max);
  std::vector<double> out;
  for (float x : logits) out.push_back(static_cast<double>(x) - max - std::log(sum));
  return out;
}

std::vector<float> RandomLogits(size_t n, float stddev, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, stddev);
  std::vector<float> logits(n);
  for (float& x : logits) x = dist(gen);
  return logits;
}

TEST(LogSoftmaxTest, MatchesDoubleReference) {
  for (size_t n : {1, 5, 1000, 151936}) {
    std::vector<float> logits = RandomLogits(n, 4.0f, static_cast<uint32_t>(n));
    if (n > 1) logits[n / 2] = -kInf;  // masked token
    const std::vector<double> expected = ReferenceLogSoftmax(logits);
    std::vector<float> out(n);
    LogSoftmax(logits, out);
    double total = 0.0;
    for (size_t i = 0; i < n; ++i) {
      if (std::isinf(expected[i])) {
        EXPECT_EQ(out[i], -kInf);
        continue;
      }
      ASSERT_NEAR(out[i], expected[i], 2e-5 + 1e-6 * std::abs(expected[i])) << "n=" << n;
      total += std::exp(static_cast<double>(out[i]));
    }
    EXPECT_NEAR(total, 1.0, 1e-5) << "n=" << n;
  }
}

TEST(LogSoftmaxTest, IsShiftInvariantAndStableForLargeLogits) {
  const std::vector<float> logits = {1000.0f, 999.0f, 998.0f};
  std::vector<float> out(3);
  LogSoftmax(logits, out);
  const std::vector<double> expected = ReferenceLogSoftmax({2.0f, 1.0f, 0.0f});
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(out[i], expected[i], 1e-6);
}

TEST(LogSoftmaxTest, WorksInPlace) {
  std::vector<float> logits = {0.5f, -1.0f, 2.0f};
  const std::vector<double> expected = ReferenceLogSoftmax(logits);
  LogSoftmax(logits, logits);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(logits[i], expected[i], 1e-6);
}

TEST(LogSumExpTest, AllMaskedIsMinusInfinity) {
  EXPECT_EQ(LogSumExp(std::vector<float>{-kInf, -kInf}), -std::numeric_limits<double>::infinity());
  EXPECT_NEAR(LogSumExp(std::vector<float>{0.0f, 0.0f}), std::log(2.0), 1e-7);
}

TEST(TopKTest, BestFirstWithLowerIdOnTies) {
  const std::vector<float> values = {0.1f, 0.7f, 0.3f, 0.7f, 0.9f, 0.3f, -1.0f};
  const auto top = TopK(values, 5);
  const std::vector<std::pair<int32_t, float>> expected = {
      {4, 0.9f}, {1, 0.7f}, {3, 0.7f}, {2, 0.3f}, {5, 0.3f}};
  EXPECT_EQ(top, expected);
}

TEST(TopKTest, ClampsKAndRanksNaNLast) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> values = {nan, 2.0f, -kInf, 1.0f};
  EXPECT_TRUE(TopK(values, 0).empty());
  EXPECT_TRUE(TopK(values, -3).empty());
  const auto all = TopK(values, 10);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].first, 1);
  EXPECT_EQ(all[1].first, 3);
  // NaN ranks like -inf; between the two, the lower index first.
  EXPECT_EQ(all[2].first, 0);
  EXPECT_EQ(all[3].first, 2);
}

TEST(TopKTest, MatchesFullSortOnALargeRow) {
  std::vector<float> values = RandomLogits(151936, 3.0f, 99);
  values[77] = values[150000];  // a tie somewhere
  std::vector<int32_t> order(values.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return values[a] > values[b] || (values[a] == values[b] && a < b);
  });
  for (int k : {1, 20, 1000}) {
    const auto top = TopK(values, k);
    ASSERT_EQ(top.size(), static_cast<size_t>(k));
    for (int i = 0; i < k; ++i) {
      ASSERT_EQ(top[i].first, order[i]) << "k=" << k << " rank " << i;
      ASSERT_EQ(top[i].second, values[order[i]]);
    }
  }
}

TEST(RawTokenLogprobTest, ReportsTheTokenAndTopLogprobs) {
  const std::vector<float> logits = {1.0f, 3.0f, 2.0f, 0.5f};
  const std::vector<double> expected = ReferenceLogSoftmax(logits);
  const scheduler::TokenLogprob result = RawTokenLogprob(logits, 2, 2);
  EXPECT_EQ(result.token_id, 2);
  EXPECT_NEAR(result.logprob, expected[2], 1e-6);
  ASSERT_EQ(result.top.size(), 2u);
  EXPECT_EQ(result.top[0].first, 1);
  EXPECT_NEAR(result.top[0].second, expected[1], 1e-6);
  EXPECT_EQ(result.top[1].first, 2);
  EXPECT_NEAR(result.top[1].second, expected[2], 1e-6);
  EXPECT_TRUE(RawTokenLogprob(logits, 3, -1).top.empty());
  EXPECT_TRUE(RawTokenLogprob(logits, 3, 0).top.empty());
}

}  // namespace
}  // namespace stride::engine::sampling
