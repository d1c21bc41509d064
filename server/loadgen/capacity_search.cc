#include "server/loadgen/capacity_search.h"

#include <algorithm>

namespace stride::server::loadgen {

ProbeVerdict JudgeProbe(const BenchmarkMetrics& metrics, const CapacityTarget& target) {
  ProbeVerdict verdict;
  if (target.kind == CapacityTarget::Kind::kP99Tbt) {
    verdict.measure = metrics.itl_ms.p99;
    const bool queue_bounded =
        target.max_median_ttft_ms <= 0 || metrics.ttft_ms.median <= target.max_median_ttft_ms;
    verdict.meets = metrics.completed > 0 && metrics.failed == 0 &&
                    metrics.itl_ms.p99 <= target.value && queue_bounded;
  } else {
    verdict.measure = metrics.slo_attainment;
    verdict.meets = metrics.slo_attainment >= target.value;
  }
  return verdict;
}

absl::StatusOr<CapacitySearchResult> SearchCapacity(const CapacitySearchOptions& options,
                                                    const ProbeFunction& probe) {
  if (!(options.min_rate > 0 && options.min_rate <= options.initial_rate &&
        options.initial_rate <= options.max_rate && options.max_probes >= 1 &&
        options.relative_tolerance > 0)) {
    return absl::InvalidArgumentError(
        "capacity search needs 0 < min rate <= start rate <= max rate, >= 1 probe and a "
        "tolerance > 0");
  }
  CapacitySearchResult result;
  std::optional<double> pass, fail;
  double rate = options.initial_rate;
  while (static_cast<int>(result.probes.size()) < options.max_probes) {
    absl::StatusOr<ProbeVerdict> verdict = probe(rate);
    if (!verdict.ok()) return verdict.status();
    result.probes.push_back({rate, *verdict});
    if (verdict->meets) {
      pass = std::max(pass.value_or(rate), rate);
    } else {
      fail = std::min(fail.value_or(rate), rate);
    }
    if (pass && fail) {
      if (*fail - *pass <= options.relative_tolerance * *pass) {
        result.converged = true;
        break;
      }
      rate = (*pass + *fail) / 2;
    } else if (pass) {
      if (*pass >= options.max_rate) {
        result.capped_at_max = true;
        result.converged = true;
        break;
      }
      rate = std::min(*pass * 2, options.max_rate);
    } else {
      if (*fail <= options.min_rate) {
        result.converged = true;
        break;
      }
      rate = std::max(*fail / 2, options.min_rate);
    }
  }
  result.capacity = pass;
  result.lowest_failing_rate = fail;
  return result;
}

}  // namespace stride::server::loadgen
