// The JSON result (vLLM's field names), the terminal table, the HTML report and its series.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/loadgen/html_report.h"
#include "server/loadgen/result_json.h"
#include "server/loadgen/svg_chart.h"
#include "server/loadgen/text_report.h"
#include "server/loadgen/time_series.h"

namespace stride::server::loadgen {
namespace {

RequestOutcome Ok(double send, std::vector<double> chunks, int64_t usage) {
  RequestOutcome o;
  o.success = true;
  o.send_time = send;
  o.chunk_times = std::move(chunks);
  o.usage_output_tokens = usage;
  o.input_len = 4;
  o.end_time = o.chunk_times.back();
  return o;
}

std::vector<RequestOutcome> SampleOutcomes() {
  RequestOutcome failed;
  failed.error = "HTTP 500: <bad>";
  failed.input_len = 4;
  failed.send_time = 0.2;
  failed.end_time = 0.3;
  return {Ok(0, {0.1, 0.2, 0.3}, 3), Ok(0.5, {0.7, 0.9}, 4), failed};
}

TEST(ResultJsonTest, VllmFieldNames) {
  SloConfig slo;
  slo.ttft_ms = 150;
  const BenchmarkMetrics m = ComputeMetrics(SampleOutcomes(), 1.0, slo);
  RunInfo info;
  info.endpoint = "completions";
  info.request_rate = std::numeric_limits<double>::infinity();
  info.num_prompts = 3;
  const nlohmann::json j = ResultJson(m, info);
  for (const char* key :
       {"completed", "failed", "duration", "total_input_tokens", "total_output_tokens",
        "request_throughput", "output_throughput", "total_token_throughput", "request_goodput",
        "ttfts", "itls", "input_lens", "output_lens", "errors"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  for (const char* metric : {"ttft", "tpot", "itl", "e2el"}) {
    for (const char* stat : {"mean", "median", "std", "p90", "p99"}) {
      EXPECT_TRUE(j.contains(std::string(stat) + "_" + metric + "_ms")) << stat << metric;
    }
  }
  EXPECT_EQ(j["completed"], 2);
  EXPECT_EQ(j["failed"], 1);
  EXPECT_EQ(j["total_output_tokens"], 7);
  EXPECT_EQ(j["request_rate"], "inf");
  EXPECT_EQ(j["backend"], "openai");
  EXPECT_DOUBLE_EQ(j["request_goodput"].get<double>(), 1.0);  // only the first: TTFT 100 ms
  EXPECT_NEAR(j["mean_ttft_ms"].get<double>(), 150, 1e-9);    // (100 + 200) / 2
  EXPECT_NEAR(j["ttfts"][1].get<double>(), 0.2, 1e-12);       // seconds, as vLLM
  EXPECT_EQ(j["itls"][0].size(), 2u);
  EXPECT_EQ(j["output_lens"], nlohmann::json({3, 4, 0}));
  EXPECT_EQ(j["errors"][2], "HTTP 500: <bad>");
  const nlohmann::json no_slo = ResultJson(ComputeMetrics(SampleOutcomes(), 1.0, {}), info);
  EXPECT_TRUE(no_slo["request_goodput"].is_null());
}

TEST(ResultJsonTest, CapacitySearch) {
  CapacitySearchResult search;
  search.probes = {{1, {true, 30}}, {2, {false, 120}}};
  search.capacity = 1;
  const nlohmann::json j =
      CapacitySearchJson(search, CapacityTarget{CapacityTarget::Kind::kP99Tbt, 100});
  EXPECT_EQ(j["target"], "p99-tbt:100");
  EXPECT_EQ(j["capacity_request_rate"], 1);
  EXPECT_EQ(j["probes"].size(), 2u);
  EXPECT_EQ(j["probes"][1]["meets_target"], false);
}

TEST(TextReportTest, TableAndProgress) {
  const BenchmarkMetrics m = ComputeMetrics(SampleOutcomes(), 2.0, {});
  const std::string table = ResultTable(m, "Serving Benchmark Result");
  EXPECT_NE(table.find("Successful requests:"), std::string::npos);
  EXPECT_NE(table.find("Failed requests:                         1"), std::string::npos);
  EXPECT_NE(table.find("Mean TTFT (ms):                          150.00"), std::string::npos);
  EXPECT_EQ(table.find("goodput"), std::string::npos);  // no SLO given
  RunProgress p{10, 6, 5, 1, 3.25};
  EXPECT_EQ(ProgressLine(p, 10), "[#####.....] 5/10 done, 1 in flight, 1 failed, 3.2 s");
}

TEST(TimeSeriesTest, ThroughputBinsAndInFlight) {
  // Duration 1 s in 4 bins of 0.25 s.
  const std::vector<TimeBin> bins = ThroughputOverTime(SampleOutcomes(), 1.0, 4);
  ASSERT_EQ(bins.size(), 4u);
  // Request 0: 3 tokens at 0.1, 0.2 (bin 0) and 0.3 (bin 1); request 1: 4 tokens in 2 chunks,
  // 2 each, at 0.7 and 0.9 (bins 2 and 3). Failed requests add no tokens.
  EXPECT_NEAR(bins[0].output_tokens_per_s, 2 / 0.25, 1e-9);
  EXPECT_NEAR(bins[1].output_tokens_per_s, 1 / 0.25, 1e-9);
  EXPECT_NEAR(bins[2].output_tokens_per_s, 2 / 0.25, 1e-9);
  EXPECT_NEAR(bins[3].output_tokens_per_s, 2 / 0.25, 1e-9);
  // In flight at the midpoints 0.125, 0.375, 0.625, 0.875: request 0 (0 to 0.3), none (the
  // failed request ran 0.2 to 0.3), then request 1 (0.5 to 0.9) twice.
  EXPECT_EQ(bins[0].requests_in_flight, 1);
  EXPECT_EQ(bins[1].requests_in_flight, 0);
  EXPECT_EQ(bins[2].requests_in_flight, 1);
  EXPECT_EQ(bins[3].requests_in_flight, 1);
}

TEST(TimeSeriesTest, CdfPoints) {
  const std::vector<double> values = {0.003, 0.001, 0.002, 0.004};
  const auto points = CdfPoints(values, 1000, 10);
  ASSERT_EQ(points.size(), 4u);
  EXPECT_NEAR(points[0].first, 1, 1e-9);
  EXPECT_DOUBLE_EQ(points[0].second, 0.25);
  EXPECT_DOUBLE_EQ(points[3].second, 1.0);
  std::vector<double> many(1000);
  for (int i = 0; i < 1000; ++i) many[i] = i;
  const auto thinned = CdfPoints(many, 1, 100);
  EXPECT_LE(thinned.size(), 101u);
  EXPECT_DOUBLE_EQ(thinned.back().second, 1.0);
  EXPECT_DOUBLE_EQ(thinned.back().first, 999);
}

TEST(SvgChartTest, NiceTicksAndEscaping) {
  const std::vector<double> unit = NiceTicks(0, 1, 5);
  const std::vector<double> expected = {0, 0.2, 0.4, 0.6, 0.8, 1};
  ASSERT_EQ(unit.size(), expected.size());
  for (size_t i = 0; i < unit.size(); ++i) EXPECT_NEAR(unit[i], expected[i], 1e-12);
  EXPECT_EQ(NiceTicks(0, 97, 5), (std::vector<double>{0, 20, 40, 60, 80}));
  EXPECT_EQ(NiceTicks(3, 12, 4), (std::vector<double>{5, 10}));  // step 5 >= 9 / 4
  EXPECT_EQ(EscapeXml("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
  ChartSpec spec{"t <1>", "x", "y", {{"s", "red", {{0, 0}, {1, 2}}}}};
  const std::string svg = SvgLineChart(spec);
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.find("t &lt;1&gt;"), std::string::npos);
}

TEST(HtmlReportTest, SelfContainedWithChartsAndNoScripts) {
  const std::vector<RequestOutcome> outcomes = SampleOutcomes();
  const BenchmarkMetrics m = ComputeMetrics(outcomes, 1.0, {});
  RunInfo info;
  info.model = "<model>";
  CapacitySearchResult search;
  search.probes = {{1, {true, 30}}, {2, {false, 120}}};
  search.capacity = 1;
  const std::string html =
      HtmlReport(m, outcomes, info, {&search, CapacityTarget{CapacityTarget::Kind::kP99Tbt, 100}});
  size_t svgs = 0;
  for (size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) {
    ++svgs;
  }
  EXPECT_EQ(svgs, 7u);  // 4 CDFs, throughput, in flight, capacity
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);  // nothing loaded from elsewhere
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_NE(html.find("&lt;model&gt;"), std::string::npos);
  EXPECT_NE(html.find("capacity: 1.000 req/s"), std::string::npos);
}

}  // namespace
}  // namespace stride::server::loadgen
