#include "server/loadgen/time_series.h"

#include <algorithm>

#include "server/loadgen/statistics.h"

namespace stride::server::loadgen {

std::vector<TimeBin> ThroughputOverTime(const std::vector<RequestOutcome>& outcomes,
                                        double duration_s, int num_bins) {
  std::vector<TimeBin> bins;
  if (num_bins < 1 || !(duration_s > 0)) return bins;
  const double width = duration_s / num_bins;
  bins.resize(num_bins);
  for (int i = 0; i < num_bins; ++i) {
    bins[i].start_s = i * width;
    bins[i].end_s = (i + 1) * width;
  }
  for (const RequestOutcome& outcome : outcomes) {
    const double mid_first = 0.5 * width;
    for (int i = 0; i < num_bins; ++i) {
      const double mid = mid_first + i * width;
      if (outcome.send_time <= mid && mid < outcome.end_time) bins[i].requests_in_flight += 1;
    }
    if (!outcome.success || outcome.chunk_times.empty()) continue;
    const double tokens = outcome.usage_output_tokens >= 0
                              ? static_cast<double>(outcome.usage_output_tokens)
                              : static_cast<double>(outcome.chunk_times.size());
    const double per_chunk = tokens / static_cast<double>(outcome.chunk_times.size());
    for (double t : outcome.chunk_times) {
      const int bin = std::clamp(static_cast<int>(t / width), 0, num_bins - 1);
      bins[bin].output_tokens_per_s += per_chunk / width;
    }
  }
  return bins;
}

std::vector<std::pair<double, double>> CdfPoints(absl::Span<const double> values, double scale,
                                                 int max_points) {
  std::vector<std::pair<double, double>> points;
  const std::vector<double> sorted = Sorted(values);
  const size_t n = sorted.size();
  if (n == 0 || max_points < 1) return points;
  const size_t stride = std::max<size_t>(1, (n + max_points - 1) / max_points);
  for (size_t i = 0; i < n; i += stride) {
    points.emplace_back(sorted[i] * scale, static_cast<double>(i + 1) / n);
  }
  if (points.back().second < 1.0) points.emplace_back(sorted.back() * scale, 1.0);
  return points;
}

}  // namespace stride::server::loadgen
