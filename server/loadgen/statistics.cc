#include "server/loadgen/statistics.h"

#include <algorithm>
#include <cmath>

namespace stride::server::loadgen {

std::vector<double> Sorted(absl::Span<const double> values) {
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

double PercentileOfSorted(absl::Span<const double> sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(sorted.size() - 1);
  const size_t lower = static_cast<size_t>(std::floor(rank));
  const size_t upper = std::min(lower + 1, sorted.size() - 1);
  const double fraction = rank - static_cast<double>(lower);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction;
}

double Percentile(absl::Span<const double> values, double p) {
  return PercentileOfSorted(Sorted(values), p);
}

double Mean(absl::Span<const double> values) {
  if (values.empty()) return 0;
  double sum = 0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

double StdDev(absl::Span<const double> values) {
  if (values.empty()) return 0;
  const double mean = Mean(values);
  double sum_squares = 0;
  for (double v : values) sum_squares += (v - mean) * (v - mean);
  return std::sqrt(sum_squares / static_cast<double>(values.size()));
}

Summary Summarize(absl::Span<const double> values, double scale) {
  const std::vector<double> sorted = Sorted(values);
  Summary s;
  s.mean = Mean(values) * scale;
  s.std = StdDev(values) * scale;
  s.median = PercentileOfSorted(sorted, 50) * scale;
  s.p90 = PercentileOfSorted(sorted, 90) * scale;
  s.p99 = PercentileOfSorted(sorted, 99) * scale;
  return s;
}

}  // namespace stride::server::loadgen
