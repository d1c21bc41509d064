// Series derived from a run's raw outcomes for the HTML report: output-token throughput and
// requests in flight over time, and empirical CDFs of latency samples.
#pragma once

#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "server/loadgen/request_outcome.h"

namespace stride::server::loadgen {

struct TimeBin {
  double start_s = 0;
  double end_s = 0;
  double output_tokens_per_s = 0;  // tokens of successful requests whose chunks fell in the bin
  double requests_in_flight = 0;   // sent and not yet ended at the bin's midpoint
};

// `num_bins` equal bins over [0, duration_s]. A successful request's output tokens are spread
// evenly over its token chunks (one each when usage matched the chunk count).
std::vector<TimeBin> ThroughputOverTime(const std::vector<RequestOutcome>& outcomes,
                                        double duration_s, int num_bins);

// Empirical CDF (x = value * scale, y = share of samples <= x), at most max_points points
// (evenly spaced ranks, the last always kept).
std::vector<std::pair<double, double>> CdfPoints(absl::Span<const double> values, double scale,
                                                 int max_points);

}  // namespace stride::server::loadgen
