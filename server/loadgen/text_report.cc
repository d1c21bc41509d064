#include "server/loadgen/text_report.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace stride::server::loadgen {
namespace {

constexpr int kWidth = 50;

std::string Rule(const std::string& title, char fill) {
  const int pad = std::max(0, kWidth - static_cast<int>(title.size()));
  return absl::StrCat(std::string(pad / 2, fill), title, std::string(pad - pad / 2, fill), "\n");
}

std::string Row(const std::string& label, const std::string& value) {
  return absl::StrFormat("%-40s %s\n", label, value);
}

std::string Number(double v) { return absl::StrFormat("%.2f", v); }

void AddLatency(std::string& out, const std::string& title, const char* name, const Summary& s) {
  out += Rule(title, '-');
  out += Row(absl::StrCat("Mean ", name, " (ms):"), Number(s.mean));
  out += Row(absl::StrCat("Median ", name, " (ms):"), Number(s.median));
  out += Row(absl::StrCat("P90 ", name, " (ms):"), Number(s.p90));
  out += Row(absl::StrCat("P99 ", name, " (ms):"), Number(s.p99));
}

}  // namespace

std::string ResultTable(const BenchmarkMetrics& m, const std::string& title) {
  std::string out = Rule(absl::StrCat(" ", title, " "), '=');
  out += Row("Successful requests:", absl::StrCat(m.completed));
  out += Row("Failed requests:", absl::StrCat(m.failed));
  out += Row("Benchmark duration (s):", Number(m.duration_s));
  out += Row("Total input tokens:", absl::StrCat(m.total_input_tokens));
  out += Row("Total generated tokens:", absl::StrCat(m.total_output_tokens));
  out += Row("Request throughput (req/s):", Number(m.request_throughput));
  if (m.has_slo) {
    out += Row("Request goodput (req/s):", Number(m.request_goodput));
    out += Row("SLO attainment (%):", Number(100 * m.slo_attainment));
  }
  out += Row("Output token throughput (tok/s):", Number(m.output_throughput));
  out += Row("Total token throughput (tok/s):", Number(m.total_token_throughput));
  AddLatency(out, "Time to First Token", "TTFT", m.ttft_ms);
  AddLatency(out, "Time per Output Token (excl. 1st token)", "TPOT", m.tpot_ms);
  AddLatency(out, "Inter-token Latency", "ITL", m.itl_ms);
  AddLatency(out, "End-to-end Latency", "E2EL", m.e2el_ms);
  out += std::string(kWidth, '=') + "\n";
  return out;
}

std::string ProgressLine(const RunProgress& p, int width) {
  const int filled =
      p.total > 0 ? static_cast<int>(static_cast<int64_t>(width) * p.finished / p.total) : width;
  return absl::StrFormat("[%s%s] %d/%d done, %d in flight, %d failed, %.1f s",
                         std::string(filled, '#'), std::string(width - filled, '.'), p.finished,
                         p.total, p.sent - p.finished, p.failed, p.elapsed_s);
}

std::string ProbeLine(const CapacityProbe& probe, const CapacityTarget& target,
                      const BenchmarkMetrics& m) {
  const std::string measure =
      target.kind == CapacityTarget::Kind::kP99Tbt
          ? absl::StrFormat("P99 ITL %.2f ms (target <= %g)", probe.verdict.measure, target.value)
          : absl::StrFormat("SLO attainment %.1f%% (target >= %g%%)", 100 * probe.verdict.measure,
                            100 * target.value);
  return absl::StrFormat(
      "probe %8.3f req/s: %s -> %s | %d ok, %d failed, %.1f out tok/s, median TTFT %.0f ms",
      probe.rate, measure, probe.verdict.meets ? "meets" : "misses", m.completed, m.failed,
      m.output_throughput, m.ttft_ms.median);
}

}  // namespace stride::server::loadgen
