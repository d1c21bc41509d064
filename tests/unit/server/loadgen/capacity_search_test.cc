#include "server/loadgen/capacity_search.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace stride::server::loadgen {
namespace {

// A server model whose P99 ITL grows linearly with the request rate: 20 ms + 4 ms per req/s,
// so the capacity under a 100 ms P99-TBT SLO is exactly 20 req/s.
ProbeFunction LinearTbtServer(double target_ms, int* calls) {
  return [target_ms, calls](double rate) -> absl::StatusOr<ProbeVerdict> {
    ++*calls;
    const double p99 = 20 + 4 * rate;
    return ProbeVerdict{p99 <= target_ms, p99};
  };
}

TEST(CapacitySearchTest, ConvergesOnP99TbtCapacity) {
  int calls = 0;
  CapacitySearchOptions options;  // starts at 1 req/s, 5 % tolerance
  auto result = SearchCapacity(options, LinearTbtServer(100, &calls));
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->capacity.has_value());
  EXPECT_LE(*result->capacity, 20.0);
  EXPECT_GE(*result->capacity, 20.0 * (1 - options.relative_tolerance));
  EXPECT_FALSE(result->capped_at_max);
  EXPECT_TRUE(result->converged);
  ASSERT_TRUE(result->lowest_failing_rate.has_value());
  EXPECT_GT(*result->lowest_failing_rate, 20.0);
  EXPECT_LE(*result->lowest_failing_rate - *result->capacity, 0.05 * *result->capacity);
  EXPECT_EQ(calls, static_cast<int>(result->probes.size()));
  EXPECT_LE(calls, options.max_probes);
  // Doubling first: 1, 2, 4, 8, 16, 32, then bisection inside [16, 32].
  ASSERT_GE(result->probes.size(), 7u);
  EXPECT_EQ(result->probes[5].rate, 32);
  EXPECT_FALSE(result->probes[5].verdict.meets);
  for (const CapacityProbe& p : result->probes) EXPECT_EQ(p.verdict.meets, p.rate <= 20);
}

TEST(CapacitySearchTest, HalvesWhenTheStartRateFails) {
  int calls = 0;
  CapacitySearchOptions options;
  options.initial_rate = 100;
  auto result = SearchCapacity(options, LinearTbtServer(40, &calls));  // capacity 5 req/s
  ASSERT_TRUE(result.ok());
  ASSERT_TRUE(result->capacity.has_value());
  EXPECT_LE(*result->capacity, 5.0);
  EXPECT_GE(*result->capacity, 5.0 * 0.95);
}

TEST(CapacitySearchTest, GoodputTarget) {
  // Attainment falls linearly: 1 - rate / 100; 90 % is met up to 10 req/s.
  CapacityTarget target{CapacityTarget::Kind::kGoodput, 0.9};
  auto probe = [&](double rate) -> absl::StatusOr<ProbeVerdict> {
    BenchmarkMetrics m;
    m.completed = 100;
    m.slo_attainment = std::max(0.0, 1 - rate / 100);
    return JudgeProbe(m, target);
  };
  CapacitySearchOptions options;
  options.relative_tolerance = 0.01;
  auto result = SearchCapacity(options, probe);
  ASSERT_TRUE(result.ok());
  ASSERT_TRUE(result->capacity.has_value());
  EXPECT_LE(*result->capacity, 10.0);
  EXPECT_GE(*result->capacity, 9.9);
}

TEST(CapacitySearchTest, NothingPassesOrEverythingPasses) {
  CapacitySearchOptions options;
  options.min_rate = 0.25;
  auto never = SearchCapacity(options, [](double) -> absl::StatusOr<ProbeVerdict> {
    return ProbeVerdict{false, 1e9};
  });
  ASSERT_TRUE(never.ok());
  EXPECT_FALSE(never->capacity.has_value());
  EXPECT_EQ(never->probes.back().rate, 0.25);
  options.max_rate = 64;
  auto always = SearchCapacity(options, [](double) -> absl::StatusOr<ProbeVerdict> {
    return ProbeVerdict{true, 1};
  });
  ASSERT_TRUE(always.ok());
  EXPECT_EQ(always->capacity, 64);
  EXPECT_TRUE(always->capped_at_max);
  EXPECT_TRUE(always->converged);
}

TEST(CapacitySearchTest, RunningOutOfProbesIsNotConvergence) {
  int calls = 0;
  CapacitySearchOptions options;
  options.max_probes = 3;  // 1, 2, 4 all pass; capacity 20 is not bracketed
  auto result = SearchCapacity(options, LinearTbtServer(100, &calls));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(calls, 3);
  EXPECT_FALSE(result->converged);
  EXPECT_EQ(result->capacity, 4);
  EXPECT_FALSE(result->lowest_failing_rate.has_value());
}

TEST(CapacitySearchTest, ProbeErrorStopsAndBadOptionsRejected) {
  auto failing = SearchCapacity({}, [](double) -> absl::StatusOr<ProbeVerdict> {
    return absl::UnavailableError("server gone");
  });
  EXPECT_EQ(failing.status().code(), absl::StatusCode::kUnavailable);
  int calls = 0;
  CapacitySearchOptions bad;
  bad.min_rate = 0;
  EXPECT_FALSE(SearchCapacity(bad, LinearTbtServer(1, &calls)).ok());
  EXPECT_EQ(calls, 0);
}

TEST(JudgeProbeTest, P99TbtNeedsNoFailures) {
  CapacityTarget target{CapacityTarget::Kind::kP99Tbt, 50};
  BenchmarkMetrics m;
  m.completed = 10;
  m.itl_ms.p99 = 49;
  EXPECT_TRUE(JudgeProbe(m, target).meets);
  EXPECT_EQ(JudgeProbe(m, target).measure, 49);
  m.failed = 1;
  EXPECT_FALSE(JudgeProbe(m, target).meets);
  m.failed = 0;
  m.itl_ms.p99 = 51;
  EXPECT_FALSE(JudgeProbe(m, target).meets);
}

TEST(JudgeProbeTest, P99TbtWithQueueBoundFailsAnOverloadedRun) {
  CapacityTarget target{CapacityTarget::Kind::kP99Tbt, 50};
  target.max_median_ttft_ms = 2000;
  BenchmarkMetrics m;
  m.completed = 10;
  m.itl_ms.p99 = 20;
  m.ttft_ms.median = 1999;
  EXPECT_TRUE(JudgeProbe(m, target).meets);
  m.ttft_ms.median = 2001;  // TBT fine, but requests queue for seconds
  EXPECT_FALSE(JudgeProbe(m, target).meets);
  target.max_median_ttft_ms = 0;  // no bound
  EXPECT_TRUE(JudgeProbe(m, target).meets);
  EXPECT_EQ(CapacityTargetToString(target), "p99-tbt:50");
  target.max_median_ttft_ms = 2000;
  EXPECT_EQ(CapacityTargetToString(target), "p99-tbt:50 (median TTFT <= 2000 ms)");
}

}  // namespace
}  // namespace stride::server::loadgen
