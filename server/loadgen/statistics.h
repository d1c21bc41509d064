// Summary statistics of latency samples, computed the way numpy does (vLLM's benchmark uses
// numpy): population standard deviation (ddof = 0) and percentiles by linear interpolation
// between the closest ranks. An empty sample summarizes to zeros, as `np.mean(x or 0)` does.
#pragma once

#include <vector>

#include "absl/types/span.h"

namespace stride::server::loadgen {

// The p-th percentile (0 <= p <= 100) of values, numpy's default "linear" method: with the values
// sorted, rank = p / 100 * (n - 1), interpolated between the two neighbouring ranks. 0 if empty.
double Percentile(absl::Span<const double> values, double p);

double Mean(absl::Span<const double> values);
// Population standard deviation (numpy's np.std default).
double StdDev(absl::Span<const double> values);

// Mean, median, std, p90 and p99 of a sample, each multiplied by `scale` (1000 turns seconds
// into the milliseconds vLLM's result fields hold).
struct Summary {
  double mean = 0;
  double median = 0;
  double std = 0;
  double p90 = 0;
  double p99 = 0;
};
Summary Summarize(absl::Span<const double> values, double scale = 1.0);

// The sorted values, for percentiles and CDF plots.
std::vector<double> Sorted(absl::Span<const double> values);

// Percentile of an already sorted sample.
double PercentileOfSorted(absl::Span<const double> sorted, double p);

}  // namespace stride::server::loadgen
