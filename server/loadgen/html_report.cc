#include "server/loadgen/html_report.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/loadgen/svg_chart.h"
#include "server/loadgen/text_report.h"
#include "server/loadgen/time_series.h"

namespace stride::server::loadgen {
namespace {

constexpr int kMaxCdfPoints = 400;

std::string Cdf(const char* title, const std::vector<double>& values_s) {
  ChartSpec spec;
  spec.title = title;
  spec.x_label = "ms";
  spec.y_label = "share of samples";
  spec.series.push_back({title, "#1f77b4", CdfPoints(values_s, 1000, kMaxCdfPoints)});
  return SvgLineChart(spec);
}

std::string InfoRow(const std::string& key, const std::string& value) {
  return absl::StrCat("<tr><th>", EscapeXml(key), "</th><td>", EscapeXml(value), "</td></tr>\n");
}

}  // namespace

std::string HtmlReport(const BenchmarkMetrics& m, const std::vector<RequestOutcome>& outcomes,
                       const RunInfo& info, const CapacityReport& capacity) {
  // Samples of successful requests only, as in the summaries.
  std::vector<double> ttfts, tpots, itls, e2els;
  for (size_t i = 0; i < m.ttfts.size(); ++i) {
    if (!m.errors[i].empty()) continue;
    ttfts.push_back(m.ttfts[i]);
    if (m.output_lens[i] > 1) tpots.push_back(m.tpots[i]);
    e2els.push_back(m.e2els[i]);
    itls.insert(itls.end(), m.itls[i].begin(), m.itls[i].end());
  }
  std::string html =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>stride bench</title>\n"
      "<style>body{font-family:sans-serif;margin:24px;max-width:1200px}"
      "th{text-align:left;padding-right:16px}pre{background:#f6f6f6;padding:8px}"
      ".charts{display:flex;flex-wrap:wrap;gap:12px}</style></head><body>\n"
      "<h1>stride bench</h1>\n<table>\n";
  html += InfoRow("date", info.date);
  html += InfoRow("server", info.url);
  html += InfoRow("endpoint", info.endpoint);
  html += InfoRow("model", info.model.empty() ? "(server default)" : info.model);
  html += InfoRow("dataset", info.dataset);
  html += InfoRow("prompts", absl::StrCat(info.num_prompts));
  html +=
      InfoRow("request rate",
              std::isinf(info.request_rate) ? "inf" : absl::StrCat(info.request_rate, " req/s"));
  html += InfoRow("burstiness", absl::StrCat(info.burstiness));
  html += InfoRow("max concurrency",
                  info.max_concurrency > 0 ? absl::StrCat(info.max_concurrency) : "none");
  html += InfoRow("seed", absl::StrCat(info.seed));
  if (!info.slo.empty()) html += InfoRow("SLO", info.slo);
  html += "</table>\n<pre>" + EscapeXml(ResultTable(m, "Serving Benchmark Result")) + "</pre>\n";
  html += "<h2>Latency distributions</h2>\n<div class=\"charts\">\n";
  html += Cdf("TTFT", ttfts);
  html += Cdf("TPOT", tpots);
  html += Cdf("ITL", itls);
  html += Cdf("E2E latency", e2els);
  html += "</div>\n<h2>Over time</h2>\n<div class=\"charts\">\n";
  const int num_bins = std::clamp(static_cast<int>(m.duration_s * 4), 10, 200);
  const std::vector<TimeBin> bins = ThroughputOverTime(outcomes, m.duration_s, num_bins);
  ChartSpec throughput{"Output token throughput", "s since start", "tokens/s", {}};
  ChartSpec in_flight{"Requests in flight", "s since start", "requests", {}};
  ChartSeries tokens{"tokens/s", "#d62728", {}}, requests{"in flight", "#2ca02c", {}};
  for (const TimeBin& bin : bins) {
    tokens.points.emplace_back((bin.start_s + bin.end_s) / 2, bin.output_tokens_per_s);
    requests.points.emplace_back((bin.start_s + bin.end_s) / 2, bin.requests_in_flight);
  }
  throughput.series.push_back(std::move(tokens));
  in_flight.series.push_back(std::move(requests));
  html += SvgLineChart(throughput) + SvgLineChart(in_flight) + "</div>\n";
  if (capacity.search != nullptr) {
    const bool tbt = capacity.target.kind == CapacityTarget::Kind::kP99Tbt;
    std::vector<CapacityProbe> probes = capacity.search->probes;
    std::sort(probes.begin(), probes.end(),
              [](const CapacityProbe& a, const CapacityProbe& b) { return a.rate < b.rate; });
    ChartSpec chart{tbt ? "P99 ITL by request rate" : "SLO attainment by request rate",
                    "request rate (req/s)",
                    tbt ? "P99 ITL (ms)" : "attainment",
                    {}};
    ChartSeries measured{"measured", "#1f77b4", {}}, target{"target", "#999", {}};
    for (const CapacityProbe& p : probes) {
      measured.points.emplace_back(p.rate, p.verdict.measure);
      target.points.emplace_back(p.rate, capacity.target.value);
    }
    chart.series.push_back(std::move(measured));
    chart.series.push_back(std::move(target));
    html += "<h2>Capacity search (" + EscapeXml(CapacityTargetToString(capacity.target)) +
            ")</h2>\n<p>";
    html +=
        capacity.search->capacity
            ? EscapeXml(absl::StrFormat(
                  "capacity: %.3f req/s%s", *capacity.search->capacity,
                  capacity.search->capped_at_max ? " (the highest rate probed; may be more)" : ""))
            : "no probed rate met the target";
    html += "</p>\n" + SvgLineChart(chart) +
            "<table>\n<tr><th>rate</th><th>measure</th>"
            "<th>verdict</th></tr>\n";
    for (const CapacityProbe& p : capacity.search->probes) {
      absl::StrAppendFormat(&html, "<tr><td>%.3f</td><td>%.4g</td><td>%s</td></tr>\n", p.rate,
                            p.verdict.measure, p.verdict.meets ? "meets" : "misses");
    }
    html += "</table>\n";
  }
  html += "</body></html>\n";
  return html;
}

}  // namespace stride::server::loadgen
