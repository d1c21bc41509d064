// Tests engine/sampling/distribution.h: weights, the truncation thresholds against a sort-based
// double reference (small and vocabulary-sized rows, ties, every radix level), and the inverse-CDF
// draw on a deterministic grid of uniforms.
#include "engine/sampling/distribution.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "engine/sampling/logprobs.h"
#include "gtest/gtest.h"
#include "tests/unit/engine/sampling/reference_distribution.h"

namespace stride::engine::sampling {
namespace {

using testing::ReferenceTruncate;
using testing::ReferenceTruncatedProbs;

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

TEST(ComputeWeightsTest, MatchesExpOfScaledDifferences) {
  const std::vector<float> logits = {1.0f, 3.0f, -2.0f, kNegInf, 2.5f};
  std::vector<float> weights(logits.size());
  ComputeWeights(logits, 0.5f, weights);
  for (size_t i = 0; i < logits.size(); ++i) {
    const double expected = std::exp((logits[i] - 3.0) / 0.5);
    EXPECT_NEAR(weights[i], expected, 3e-7 * expected) << i;
  }
  EXPECT_EQ(weights[1], 1.0f);  // the maximum is exactly 1
}

// The sampler reuses this value as the raw log-sum-exp when the temperature is 1.
TEST(ComputeWeightsTest, ReturnsLogSumExpOfScaledLogits) {
  std::vector<float> logits(5000);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(0.37f * i) * 6.0f;
  std::vector<float> weights(logits.size());
  EXPECT_EQ(ComputeWeights(logits, 1.0f, weights), LogSumExp(logits));
  std::vector<float> scaled(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) scaled[i] = logits[i] / 0.6f;
  EXPECT_NEAR(ComputeWeights(logits, 0.6f, weights), LogSumExp(scaled), 1e-5);
}

TEST(ComputeWeightsTest, NoFiniteLogitGivesAllZero) {
  const std::vector<float> logits = {kNegInf, kNegInf};
  std::vector<float> weights(2, 5.0f);
  EXPECT_EQ(ComputeWeights(logits, 1.0f, weights), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(weights, (std::vector<float>{0.0f, 0.0f}));
}

// Which tokens survive ApplyTopKTopPMinP, compared with the reference's nonzero set. Small rows
// use the fully independent double pipeline; vocabulary-sized rows feed the reference the same
// float weights, since there exp rounding makes distinct logits tie as weights.
void ExpectSameSupport(const std::vector<float>& logits, const Truncation& truncation,
                       bool reference_from_weights) {
  std::vector<float> weights(logits.size());
  ComputeWeights(logits, 1.0f, weights);
  const std::vector<double> expected =
      reference_from_weights
          ? ReferenceTruncate(std::vector<double>(weights.begin(), weights.end()), truncation.top_k,
                              truncation.top_p, truncation.min_p)
          : ReferenceTruncatedProbs(std::vector<double>(logits.begin(), logits.end()), 1.0,
                                    truncation.top_k, truncation.top_p, truncation.min_p);
  TruncationScratch scratch;
  ApplyTopKTopPMinP(truncation, weights, scratch);
  size_t kept = 0;
  size_t expected_kept = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    ASSERT_EQ(weights[i] > 0.0f, expected[i] > 0.0)
        << "token " << i << " logit " << logits[i] << " top_k " << truncation.top_k << " top_p "
        << truncation.top_p << " min_p " << truncation.min_p;
    kept += weights[i] > 0.0f;
    expected_kept += expected[i] > 0.0;
  }
  EXPECT_GT(kept, 0u);
  EXPECT_EQ(kept, expected_kept);
}

TEST(TruncationTest, SmallRowsMatchTheReference) {
  const std::vector<float> logits = {1.0f,  0.5f, 2.0f,  -1.0f, 0.0f, 1.5f,
                                     -0.5f, 0.8f, -2.0f, 0.3f,  1.2f, -0.2f};
  for (int top_k : {0, 1, 3, 4, 11, 12, 50}) {
    for (float top_p : {1.0f, 0.05f, 0.3f, 0.6f, 0.9f, 0.99f}) {
      for (float min_p : {0.0f, 0.1f, 0.5f}) {
        ExpectSameSupport(logits, {.top_k = top_k, .top_p = top_p, .min_p = min_p},
                          /*reference_from_weights=*/false);
      }
    }
  }
}

TEST(TruncationTest, TiesAtTheTopKBoundaryAllStay) {
  const std::vector<float> logits = {3.0f, 1.0f, 2.0f, 2.0f, 2.0f, 0.0f};
  std::vector<float> weights(logits.size());
  ComputeWeights(logits, 1.0f, weights);
  TruncationScratch scratch;
  ApplyTopKTopPMinP({.top_k = 2}, weights, scratch);
  EXPECT_GT(weights[0], 0.0f);
  EXPECT_GT(weights[2], 0.0f);
  EXPECT_GT(weights[3], 0.0f);
  EXPECT_GT(weights[4], 0.0f);
  EXPECT_EQ(weights[1], 0.0f);
  EXPECT_EQ(weights[5], 0.0f);
}

TEST(TruncationTest, TopPAlwaysKeepsTheMostLikelyToken) {
  const std::vector<float> logits = {0.0f, 5.0f, 1.0f};
  std::vector<float> weights(logits.size());
  ComputeWeights(logits, 1.0f, weights);
  TruncationScratch scratch;
  ApplyTopKTopPMinP({.top_p = 1e-6f}, weights, scratch);
  EXPECT_EQ(weights, (std::vector<float>{0.0f, 1.0f, 0.0f}));
}

// Vocabulary-sized rows: a wide spread (level-0 bins decide) and a narrow one (weights in
// [0.95, 1], two level-0 bins, so the 2nd and 3rd radix levels decide); top_k = 5000 is above the
// heap limit (radix by count).
TEST(TruncationTest, LargeRowsMatchTheReference) {
  std::mt19937 gen(2024);
  struct Shape {
    float low, high;
  };
  for (const Shape shape : {Shape{-12.0f, 12.0f}, Shape{-0.05f, 0.0f}}) {
    std::uniform_real_distribution<float> dist(shape.low, shape.high);
    std::vector<float> logits(151936);
    for (float& x : logits) x = dist(gen);
    for (const Truncation& t :
         {Truncation{.top_k = 40}, Truncation{.top_k = 5000}, Truncation{.top_p = 0.9f},
          Truncation{.top_p = 0.3f}, Truncation{.min_p = 0.05f},
          Truncation{.top_k = 3000, .top_p = 0.5f, .min_p = 0.01f}}) {
      ExpectSameSupport(logits, t, /*reference_from_weights=*/true);
    }
  }
}

// A language-model-like row: a few strong tokens over a weak bulk. The nucleus is smaller than the
// 256 heaviest weights, which is top_p's fast path; one case puts a tie group across that edge.
TEST(TruncationTest, PeakedRowsMatchTheReference) {
  std::mt19937 gen(77);
  std::normal_distribution<float> bulk(-2.0f, 2.0f);
  std::vector<float> logits(151936);
  for (float& x : logits) x = bulk(gen);
  for (int j = 0; j < 40; ++j) logits[(j * 3571) % logits.size()] = 9.0f + 0.25f * j;
  for (float top_p : {0.05f, 0.5f, 0.9f, 0.99f, 0.999f}) {
    ExpectSameSupport(logits, {.top_p = top_p}, /*reference_from_weights=*/true);
    ExpectSameSupport(logits, {.top_k = 20, .top_p = top_p}, /*reference_from_weights=*/true);
  }
  for (int j = 0; j < 300; ++j) logits[(j * 7919 + 11) % logits.size()] = 25.0f;  // 300-way tie
  for (float top_p : {0.5f, 0.9999f}) {
    ExpectSameSupport(logits, {.top_p = top_p}, /*reference_from_weights=*/true);
  }
}

TEST(SampleFromWeightsTest, InvertsTheCdfInTokenOrder) {
  const std::vector<float> weights = {0.0f, 1.0f, 0.0f, 3.0f, 4.0f};  // CDF steps 1/8, 4/8, 8/8
  EXPECT_EQ(SampleFromWeights(weights, 0.0), 1);
  EXPECT_EQ(SampleFromWeights(weights, 0.124), 1);
  EXPECT_EQ(SampleFromWeights(weights, 0.125), 3);  // the running sum must exceed u * W
  EXPECT_EQ(SampleFromWeights(weights, 0.49), 3);
  EXPECT_EQ(SampleFromWeights(weights, 0.5), 4);
  EXPECT_EQ(SampleFromWeights(weights, 0.999999), 4);
  EXPECT_EQ(SampleFromWeights(std::vector<float>{0.0f, 0.0f}, 0.5), std::nullopt);
}

// A grid of uniforms across a row longer than the block size must reproduce the weights exactly
// (up to the grid's resolution) and never pick a zero-weight token.
TEST(SampleFromWeightsTest, GridOfUniformsReproducesTheWeights) {
  std::vector<float> weights(3000, 0.0f);
  std::mt19937 gen(5);
  std::uniform_real_distribution<float> dist(0.0f, 1.0f);
  double total = 0.0;
  for (size_t i = 0; i < weights.size(); i += 7) {
    weights[i] = dist(gen);
    total += weights[i];
  }
  constexpr int kDraws = 1 << 20;
  std::vector<int> counts(weights.size(), 0);
  for (int j = 0; j < kDraws; ++j) {
    const std::optional<int32_t> token = SampleFromWeights(weights, (j + 0.5) / kDraws);
    ASSERT_TRUE(token.has_value());
    ++counts[*token];
  }
  for (size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] == 0.0f) {
      ASSERT_EQ(counts[i], 0) << i;
    } else {
      ASSERT_NEAR(counts[i], weights[i] / total * kDraws, 1.0) << i;
    }
  }
}

}  // namespace
}  // namespace stride::engine::sampling
