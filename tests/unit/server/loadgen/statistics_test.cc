#include "server/loadgen/statistics.h"

#include <vector>

#include "gtest/gtest.h"

namespace stride::server::loadgen {
namespace {

// Expected values computed by hand with numpy's default (linear) percentile method:
// rank = p / 100 * (n - 1), interpolated between the neighbouring sorted values.
TEST(StatisticsTest, PercentileInterpolatesLinearlyLikeNumpy) {
  const std::vector<double> values = {50, 15, 40, 20, 35};  // sorted: 15 20 35 40 50
  EXPECT_DOUBLE_EQ(Percentile(values, 0), 15);
  EXPECT_DOUBLE_EQ(Percentile(values, 40), 29);    // rank 1.6: 20 + 0.6 * 15
  EXPECT_DOUBLE_EQ(Percentile(values, 50), 35);    // rank 2
  EXPECT_DOUBLE_EQ(Percentile(values, 90), 46);    // rank 3.6: 40 + 0.6 * 10
  EXPECT_DOUBLE_EQ(Percentile(values, 99), 49.6);  // rank 3.96: 40 + 0.96 * 10
  EXPECT_DOUBLE_EQ(Percentile(values, 100), 50);
}

TEST(StatisticsTest, SummarizeOneToTen) {
  std::vector<double> values;
  for (int i = 10; i >= 1; --i) values.push_back(i);
  const Summary s = Summarize(values, 1000);
  EXPECT_DOUBLE_EQ(s.mean, 5500);
  EXPECT_DOUBLE_EQ(s.median, 5500);              // rank 4.5 between 5 and 6
  EXPECT_NEAR(s.p90, 9100, 1e-9);                // rank 8.1
  EXPECT_NEAR(s.p99, 9910, 1e-9);                // rank 8.91
  EXPECT_NEAR(s.std, 2872.2813232690143, 1e-9);  // np.std(range(1, 11)) * 1000, ddof = 0
}

TEST(StatisticsTest, SingleValueAndEmpty) {
  const std::vector<double> one = {0.25};
  EXPECT_DOUBLE_EQ(Percentile(one, 99), 0.25);
  EXPECT_DOUBLE_EQ(StdDev(one), 0);
  const Summary empty = Summarize({});
  EXPECT_EQ(empty.mean, 0);
  EXPECT_EQ(empty.median, 0);
  EXPECT_EQ(empty.p99, 0);
  EXPECT_EQ(empty.std, 0);
}

TEST(StatisticsTest, StdDevIsPopulationStdDev) {
  const std::vector<double> values = {2, 4, 4, 4, 5, 5, 7, 9};  // mean 5, variance 4
  EXPECT_DOUBLE_EQ(Mean(values), 5);
  EXPECT_DOUBLE_EQ(StdDev(values), 2);
}

}  // namespace
}  // namespace stride::server::loadgen
