#include "server/metrics/server_metrics.h"

#include <string>

#include "gtest/gtest.h"

namespace stride::server::metrics {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(HistogramTest, CumulativeBucketsSumAndCount) {
  Histogram h({0.1, 1.0});
  h.Observe(0.05);
  h.Observe(0.1);  // le is inclusive
  h.Observe(0.5);
  h.Observe(7.0);
  std::string out;
  h.Render("m", "k=\"v\"", &out);
  EXPECT_TRUE(Has(out, "m_bucket{k=\"v\",le=\"0.1\"} 2")) << out;
  EXPECT_TRUE(Has(out, "m_bucket{k=\"v\",le=\"1\"} 3")) << out;
  EXPECT_TRUE(Has(out, "m_bucket{k=\"v\",le=\"+Inf\"} 4")) << out;
  EXPECT_TRUE(Has(out, "m_sum{k=\"v\"} " + FormatMetricValue(0.05 + 0.1 + 0.5 + 7.0))) << out;
  EXPECT_TRUE(Has(out, "m_count{k=\"v\"} 4")) << out;
  EXPECT_EQ(h.count(), 4);
  EXPECT_DOUBLE_EQ(h.sum(), 7.65);
}

TEST(HistogramTest, NoLabels) {
  Histogram h({1.0});
  h.Observe(2.0);
  std::string out;
  h.Render("m", "", &out);
  EXPECT_TRUE(Has(out, "m_bucket{le=\"1\"} 0")) << out;
  EXPECT_TRUE(Has(out, "m_count 1")) << out;
}

TEST(FormatMetricValueTest, SpecialValues) {
  EXPECT_EQ(FormatMetricValue(3), "3");
  EXPECT_EQ(FormatMetricValue(0.25), "0.25");
  EXPECT_EQ(FormatMetricValue(0.005), "0.005");
  EXPECT_EQ(FormatMetricValue(0.1 + 0.2), "0.30000000000000004");  // shortest exact text
  EXPECT_EQ(FormatMetricValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatMetricValue(0.0 / 0.0), "NaN");
}

TEST(ServerMetricsTest, RendersCountersHistogramsAndEngineGauges) {
  ServerMetrics m("tiny \"model\"");
  m.RecordOutcome(Outcome::kStop);
  m.RecordOutcome(Outcome::kStop);
  m.RecordOutcome(Outcome::kAborted);
  m.RecordHttpStatus(200);
  m.RecordHttpStatus(404);
  m.RecordHttpStatus(429);
  m.ObserveTimeToFirstToken(0.003);
  engine::EngineStats stats;
  stats.num_running = 3;
  stats.num_waiting = 2;
  stats.num_free_kv_blocks = 17;
  stats.num_total_kv_blocks = 20;
  stats.kv_usage = 0.15;
  stats.num_preemptions = 4;
  stats.prefix_cache_query_tokens = 200;
  stats.prefix_cache_hit_tokens = 50;
  const std::string text = m.Render(&stats);
  const std::string l = "model_name=\"tiny \\\"model\\\"\"";
  EXPECT_TRUE(Has(text, "stride:requests_total{" + l + ",outcome=\"stop\"} 2")) << text;
  EXPECT_TRUE(Has(text, "stride:requests_total{" + l + ",outcome=\"aborted\"} 1"));
  EXPECT_TRUE(Has(text, "stride:requests_total{" + l + ",outcome=\"error\"} 0"));
  EXPECT_TRUE(Has(text, "stride:http_responses_total{" + l + ",code=\"4xx\"} 2"));
  EXPECT_TRUE(Has(text, "stride:time_to_first_token_seconds_count{" + l + "} 1"));
  EXPECT_TRUE(Has(text, "stride:time_to_first_token_seconds_bucket{" + l + ",le=\"0.005\"} 1"));
  EXPECT_TRUE(Has(text, "stride:time_to_first_token_seconds_bucket{" + l + ",le=\"0.001\"} 0"));
  EXPECT_TRUE(Has(text, "# TYPE stride:time_to_first_token_seconds histogram"));
  EXPECT_TRUE(Has(text, "stride:num_requests_running{" + l + "} 3"));
  EXPECT_TRUE(Has(text, "stride:num_requests_waiting{" + l + "} 2"));
  EXPECT_TRUE(Has(text, "stride:kv_free_blocks{" + l + "} 17"));
  EXPECT_TRUE(Has(text, "stride:kv_total_blocks{" + l + "} 20"));
  EXPECT_TRUE(Has(text, "stride:num_preemptions_total{" + l + "} 4"));
  EXPECT_TRUE(Has(text, "stride:prefix_cache_hit_rate{" + l + "} 0.25"));
  EXPECT_TRUE(Has(text, "# TYPE stride:kv_cache_usage_perc gauge"));
}

TEST(ServerMetricsTest, NoEngineGaugesWhileLoading) {
  ServerMetrics m("tiny");
  const std::string text = m.Render(nullptr);
  EXPECT_NE(text.find("stride:requests_total"), std::string::npos);
  EXPECT_EQ(text.find("stride:kv_free_blocks"), std::string::npos);
}

}  // namespace
}  // namespace stride::server::metrics
