// Capacity search: the highest request rate a server sustains under a target, found by probing
// rates (each probe a full benchmark run at that rate). Targets (slo.h): Sarathi-Serve's P99
// time-between-tokens (P99 ITL <= bound, no failed request, and optionally median TTFT <= a
// queueing bound), or DistServe's goodput (the
// share of all requests that succeed and meet every SLO >= the fraction). Latency is assumed to
// grow with rate: the search doubles (or halves) from the start rate until it brackets the
// answer, then bisects until the bracket is within a relative tolerance.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "server/loadgen/metrics.h"
#include "server/loadgen/slo.h"

namespace stride::server::loadgen {

struct ProbeVerdict {
  bool meets = false;
  double measure = 0;  // P99 ITL in ms, or the SLO attainment
};

// Judges one run's metrics against the target.
ProbeVerdict JudgeProbe(const BenchmarkMetrics& metrics, const CapacityTarget& target);

struct CapacitySearchOptions {
  double initial_rate = 1.0;   // requests/s of the first probe
  double min_rate = 1.0 / 64;  // give up below this
  double max_rate = 4096;      // stop doubling here
  int max_probes = 16;
  double relative_tolerance = 0.05;  // stop when (fail - pass) <= tolerance * pass
};

struct CapacityProbe {
  double rate = 0;
  ProbeVerdict verdict;
};

struct CapacitySearchResult {
  std::vector<CapacityProbe> probes;  // in the order they ran
  std::optional<double> capacity;     // highest passing rate; none if even min_rate failed
  bool capped_at_max = false;         // max_rate passed: the capacity may be higher
  // The search ended by its own rule (bracket within tolerance, or min_rate / max_rate
  // reached) rather than by running out of probes.
  bool converged = false;
  std::optional<double> lowest_failing_rate;  // the bracket's upper end, if any probe failed
};

using ProbeFunction = std::function<absl::StatusOr<ProbeVerdict>(double rate)>;

// Runs probes until the answer is bracketed within tolerance or max_probes ran. A probe's
// error ends the search with that error.
absl::StatusOr<CapacitySearchResult> SearchCapacity(const CapacitySearchOptions& options,
                                                    const ProbeFunction& probe);

}  // namespace stride::server::loadgen
