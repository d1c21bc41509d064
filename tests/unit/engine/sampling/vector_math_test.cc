// Tests engine/sampling/vector_math.h against scalar double-precision references.
#include "engine/sampling/vector_math.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace stride::engine::sampling {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(ScaledExpTest, RelativeErrorIsAboutOneUlpOnTheUsedRange) {
  double worst = 0.0;
  for (float x = -87.0f; x <= 0.0f; x += 0.000731f) {
    const double exact = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::abs(ScaledExp(x, 1.0f, 0.0f) - exact) / exact);
  }
  EXPECT_LT(worst, 2.0e-7);
  EXPECT_EQ(ScaledExp(0.0f, 1.0f, 0.0f), 1.0f);
}

TEST(ScaledExpTest, DividesThenShifts) {
  const float x = 3.0f;
  const float expected = static_cast<float>(std::exp(static_cast<double>(x / 0.7f - 5.0f)));
  EXPECT_NEAR(ScaledExp(x, 0.7f, 5.0f), expected, 2e-7 * expected);
}

TEST(ScaledExpTest, EdgeCasesGiveZero) {
  EXPECT_EQ(ScaledExp(-kInf, 1.0f, 0.0f), 0.0f);
  EXPECT_EQ(ScaledExp(-90.0f, 1.0f, 0.0f), 0.0f);
  EXPECT_EQ(ScaledExp(kNaN, 1.0f, 0.0f), 0.0f);
}

// Every length exercises the vector body and the tail; the span version must equal the scalar
// one element by element, and its return value the double sum of what it wrote.
TEST(ScaledExpTest, SpanMatchesScalarForEveryTailLength) {
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> dist(-20.0f, 0.0f);
  for (size_t n = 0; n <= 37; ++n) {
    std::vector<float> in(n), out(n, -1.0f);
    for (float& x : in) x = dist(gen);
    const double sum = ScaledExp(in, 1.3f, 0.25f, out);
    double expected_sum = 0.0;
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(out[i], ScaledExp(in[i], 1.3f, 0.25f)) << "n=" << n << " i=" << i;
      expected_sum += out[i];
    }
    EXPECT_NEAR(sum, expected_sum, 1e-12 * (1.0 + expected_sum));
  }
}

TEST(ExpSumTest, EqualsScaledExpSumBitForBit) {
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> dist(-30.0f, 2.0f);
  for (size_t n : {0, 3, 8, 1001, 151936}) {
    std::vector<float> in(n), out(n);
    for (float& x : in) x = dist(gen);
    EXPECT_EQ(ExpSum(in, 0.8f, 2.5f), ScaledExp(in, 0.8f, 2.5f, out)) << n;
  }
}

TEST(ScaledExpTest, WorksInPlace) {
  std::vector<float> values = {0.0f, -1.0f, -2.0f, -kInf, kNaN, -0.5f, -3.0f, -4.0f, -5.0f};
  const std::vector<float> copy = values;
  ScaledExp(values, 1.0f, 0.0f, values);
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(values[i], ScaledExp(copy[i], 1.0f, 0.0f));
  }
}

TEST(SumTest, MatchesDoubleReference) {
  std::mt19937 gen(11);
  std::uniform_real_distribution<float> dist(0.0f, 1.0f);
  for (size_t n : {0, 1, 7, 8, 9, 1000, 151937}) {
    std::vector<float> values(n);
    double expected = 0.0;
    for (float& x : values) {
      x = dist(gen);
      expected += x;
    }
    EXPECT_NEAR(Sum(values), expected, 1e-9 * (1.0 + expected)) << n;
  }
}

TEST(MaxValueTest, IgnoresNaNAndFindsTails) {
  EXPECT_EQ(MaxValue(std::vector<float>{}), -kInf);
  EXPECT_EQ(MaxValue(std::vector<float>{kNaN, kNaN}), -kInf);
  std::vector<float> values(19, -3.0f);
  values[4] = kNaN;
  values[18] = 2.5f;  // in the tail after two full vectors
  EXPECT_EQ(MaxValue(values), 2.5f);
  values[3] = kInf;
  EXPECT_EQ(MaxValue(values), kInf);
}

TEST(ArgMaxTest, FirstMaximumWinsAndNaNIsIgnored) {
  EXPECT_EQ(ArgMax(std::vector<float>{1.0f, 3.0f, 2.0f, 3.0f}), 1);
  EXPECT_EQ(ArgMax(std::vector<float>{kNaN, -1.0f, kNaN, -0.5f}), 3);
  EXPECT_EQ(ArgMax(std::vector<float>{kNaN, kNaN}), 0);
  EXPECT_EQ(ArgMax(std::vector<float>{-kInf, -kInf, -kInf}), 0);
  std::vector<float> long_row(1000, 0.25f);
  long_row[997] = 0.5f;
  long_row[999] = 0.5f;
  EXPECT_EQ(ArgMax(long_row), 997);
}

TEST(ZeroBelowTest, ZeroesOnlyValuesBelowTheThreshold) {
  std::vector<float> values = {0.1f, 0.5f, 0.49f, 1.0f, 0.0f, 0.5f, 0.2f, 0.9f, 0.3f, 0.6f, 0.05f};
  const std::vector<float> copy = values;
  ZeroBelow(0.5f, values);
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(values[i], copy[i] < 0.5f ? 0.0f : copy[i]) << i;
  }
}

}  // namespace
}  // namespace stride::engine::sampling
