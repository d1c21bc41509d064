#include "server/loadgen/arrivals.h"

#include <cmath>
#include <limits>
#include <vector>

#include "gtest/gtest.h"
#include "server/loadgen/statistics.h"

namespace stride::server::loadgen {
namespace {

std::vector<double> Intervals(const std::vector<double>& offsets) {
  std::vector<double> intervals;
  for (size_t i = 1; i < offsets.size(); ++i) intervals.push_back(offsets[i] - offsets[i - 1]);
  return intervals;
}

// Gamma(shape k, scale 1/(rate k)) has mean 1/rate and coefficient of variation 1/sqrt(k). With
// 200,000 draws the sample mean's relative standard error is CV/sqrt(n) < 0.5 %, so 3 % bounds
// are wide for a correct sampler and tight against a wrong shape or scale.
class ArrivalsMomentsTest : public ::testing::TestWithParam<double> {};

TEST_P(ArrivalsMomentsTest, MeanAndCoefficientOfVariation) {
  const double burstiness = GetParam();
  const double rate = 8.0;
  absl::StatusOr<std::vector<double>> offsets = ArrivalOffsets(200001, rate, burstiness, 42);
  ASSERT_TRUE(offsets.ok()) << offsets.status();
  EXPECT_EQ(offsets->front(), 0.0);
  const std::vector<double> intervals = Intervals(*offsets);
  for (double interval : intervals) ASSERT_GE(interval, 0.0);
  const double mean = Mean(intervals);
  const double cv = StdDev(intervals) / mean;
  EXPECT_NEAR(mean, 1 / rate, 0.03 / rate);
  EXPECT_NEAR(cv, 1 / std::sqrt(burstiness), 0.03 / std::sqrt(burstiness));
}

INSTANTIATE_TEST_SUITE_P(Burstiness, ArrivalsMomentsTest, ::testing::Values(0.25, 1.0, 4.0));

TEST(ArrivalsTest, DeterministicPerSeed) {
  auto a = ArrivalOffsets(100, 5, 1, 7);
  auto b = ArrivalOffsets(100, 5, 1, 7);
  auto c = ArrivalOffsets(100, 5, 1, 8);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  for (size_t i = 1; i < a->size(); ++i) EXPECT_GE((*a)[i], (*a)[i - 1]);
}

TEST(ArrivalsTest, InfiniteRateSendsAllAtOnce) {
  auto offsets = ArrivalOffsets(5, std::numeric_limits<double>::infinity(), 1, 0);
  ASSERT_TRUE(offsets.ok());
  EXPECT_EQ(*offsets, std::vector<double>(5, 0.0));
}

TEST(ArrivalsTest, RejectsBadParameters) {
  EXPECT_FALSE(ArrivalOffsets(5, 0, 1, 0).ok());
  EXPECT_FALSE(ArrivalOffsets(5, -1, 1, 0).ok());
  EXPECT_FALSE(ArrivalOffsets(5, std::nan(""), 1, 0).ok());
  EXPECT_FALSE(ArrivalOffsets(5, 1, 0, 0).ok());
  EXPECT_FALSE(ArrivalOffsets(-1, 1, 1, 0).ok());
}

}  // namespace
}  // namespace stride::server::loadgen
