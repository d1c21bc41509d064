#include "server/loadgen/metrics.h"

#include <vector>

#include "gtest/gtest.h"

namespace stride::server::loadgen {
namespace {

RequestOutcome Outcome(double send, std::vector<double> chunks, int64_t usage, int64_t input) {
  RequestOutcome o;
  o.success = true;
  o.send_time = send;
  o.chunk_times = std::move(chunks);
  o.usage_output_tokens = usage;
  o.input_len = input;
  o.end_time = o.chunk_times.empty() ? send : o.chunk_times.back() + 0.001;
  return o;
}

TEST(DeriveTimingsTest, VllmDefinitions) {
  // Sent at 1.0 s, first chunk 50 ms later, then one every 20 ms: 5 tokens.
  const RequestTimings t = DeriveTimings(Outcome(1.0, {1.05, 1.07, 1.09, 1.11, 1.13}, 5, 10));
  EXPECT_NEAR(t.ttft, 0.050, 1e-12);
  EXPECT_NEAR(t.latency, 0.130, 1e-12);
  EXPECT_NEAR(t.tpot, 0.020, 1e-12);  // (0.130 - 0.050) / (5 - 1)
  ASSERT_EQ(t.itls.size(), 4u);
  for (double itl : t.itls) EXPECT_NEAR(itl, 0.020, 1e-12);
  EXPECT_EQ(t.output_tokens, 5);
}

TEST(DeriveTimingsTest, TpotUsesUsageTokensNotChunks) {
  // Two chunks carrying 9 tokens: TPOT = (0.5 - 0.1) / 8, ITL is the one chunk gap.
  const RequestTimings t = DeriveTimings(Outcome(0, {0.1, 0.5}, 9, 1));
  EXPECT_NEAR(t.tpot, 0.05, 1e-12);
  ASSERT_EQ(t.itls.size(), 1u);
  EXPECT_NEAR(t.itls[0], 0.4, 1e-12);
  // Without usage the chunk count stands in for the token count.
  EXPECT_EQ(DeriveTimings(Outcome(0, {0.1, 0.5}, -1, 1)).output_tokens, 2);
  // One token: TPOT 0.
  EXPECT_EQ(DeriveTimings(Outcome(0, {0.3}, 1, 1)).tpot, 0);
}

TEST(ComputeMetricsTest, AggregatesAndGoodput) {
  std::vector<RequestOutcome> outcomes;
  outcomes.push_back(Outcome(0.0, {0.05, 0.07, 0.09, 0.11, 0.13}, 5, 10));  // TTFT 50, TPOT 20
  outcomes.push_back(Outcome(0.5, {0.6, 0.7, 0.8}, 3, 20));                 // TTFT 100, TPOT 100
  outcomes.push_back(Outcome(1.0, {1.02}, 1, 30));                          // TTFT 20, 1 token
  RequestOutcome failed;
  failed.success = false;
  failed.error = "HTTP 500: boom";
  failed.input_len = 40;
  failed.send_time = 1.5;
  outcomes.push_back(failed);
  SloConfig slo;
  slo.ttft_ms = 60;
  slo.tpot_ms = 50;
  const BenchmarkMetrics m = ComputeMetrics(outcomes, 2.0, slo);
  EXPECT_EQ(m.num_requests, 4);
  EXPECT_EQ(m.completed, 3);
  EXPECT_EQ(m.failed, 1);
  EXPECT_EQ(m.total_input_tokens, 60);  // the failed request's input is not counted
  EXPECT_EQ(m.total_output_tokens, 9);
  EXPECT_DOUBLE_EQ(m.request_throughput, 1.5);
  EXPECT_DOUBLE_EQ(m.output_throughput, 4.5);
  EXPECT_DOUBLE_EQ(m.total_token_throughput, 34.5);
  // Requests 1 and 3 meet TTFT <= 60 ms and TPOT <= 50 ms (a 1-token request has TPOT 0).
  EXPECT_EQ(m.good_requests, 2);
  EXPECT_DOUBLE_EQ(m.request_goodput, 1.0);
  EXPECT_DOUBLE_EQ(m.slo_attainment, 0.5);
  EXPECT_EQ(m.meets_slo, (std::vector<bool>{true, false, true, false}));
  // TTFTs 50, 100, 20 ms: mean 56.67, median 50, p90 = 50 + 0.8 * 50 = 90.
  EXPECT_NEAR(m.ttft_ms.mean, 170.0 / 3, 1e-9);
  EXPECT_NEAR(m.ttft_ms.median, 50, 1e-9);
  EXPECT_NEAR(m.ttft_ms.p90, 90, 1e-9);
  // TPOT only over requests with > 1 token: 20 and 100 ms.
  EXPECT_NEAR(m.tpot_ms.mean, 60, 1e-9);
  EXPECT_NEAR(m.tpot_ms.median, 60, 1e-9);
  // ITLs pooled: four of 20 ms and two of 100 ms.
  EXPECT_NEAR(m.itl_ms.mean, 280.0 / 6, 1e-9);
  EXPECT_NEAR(m.itl_ms.median, 20, 1e-9);
  EXPECT_NEAR(m.itl_ms.p99, 100, 1e-9);
  EXPECT_NEAR(m.e2el_ms.mean, (130.0 + 300 + 20) / 3, 1e-9);
  // Per-request arrays cover every request, in order.
  EXPECT_EQ(m.input_lens, (std::vector<int64_t>{10, 20, 30, 40}));
  EXPECT_EQ(m.output_lens, (std::vector<int64_t>{5, 3, 1, 0}));
  EXPECT_EQ(m.errors[3], "HTTP 500: boom");
  EXPECT_EQ(m.errors[0], "");
  EXPECT_EQ(m.ttfts[3], 0);
  EXPECT_TRUE(m.itls[3].empty());
  EXPECT_EQ(m.itls[0].size(), 4u);
}

TEST(ComputeMetricsTest, E2elSloAndNoSlo) {
  std::vector<RequestOutcome> outcomes = {Outcome(0, {0.1, 0.2}, 2, 1),
                                          Outcome(0, {0.1, 0.9}, 2, 1)};
  SloConfig slo;
  slo.e2el_ms = 500;
  const BenchmarkMetrics with = ComputeMetrics(outcomes, 1.0, slo);
  EXPECT_TRUE(with.has_slo);
  EXPECT_EQ(with.good_requests, 1);
  const BenchmarkMetrics without = ComputeMetrics(outcomes, 1.0, SloConfig{});
  EXPECT_FALSE(without.has_slo);
  EXPECT_EQ(without.good_requests, 0);
}

TEST(ComputeMetricsTest, AllFailedIsZeros) {
  RequestOutcome failed;
  failed.error = "connect: refused";
  const BenchmarkMetrics m = ComputeMetrics({failed, failed}, 0.5, SloConfig{});
  EXPECT_EQ(m.completed, 0);
  EXPECT_EQ(m.failed, 2);
  EXPECT_EQ(m.ttft_ms.mean, 0);
  EXPECT_EQ(m.output_throughput, 0);
}

TEST(ComputeMetricsTest, SuccessWithoutChunksCountsAsFailure) {
  RequestOutcome odd;
  odd.success = true;  // defensive: no chunk means no TTFT
  const BenchmarkMetrics m = ComputeMetrics({odd}, 1, SloConfig{});
  EXPECT_EQ(m.failed, 1);
  EXPECT_FALSE(m.errors[0].empty());
}

}  // namespace
}  // namespace stride::server::loadgen
