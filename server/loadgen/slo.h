// Service-level objectives of a benchmark (`--slo ttft:MS,tpot:MS,e2el:MS`, vLLM's
// `--goodput` keys) and the target of a capacity search (`--target p99-tbt:MS` for
// Sarathi-Serve's capacity under a P99 time-between-tokens SLO, `--target goodput:F` for
// DistServe's: the share of requests meeting every SLO must be at least F).
#pragma once

#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace stride::server::loadgen {

// Each bound in milliseconds; a request meets the SLOs when each given metric is <= its bound.
struct SloConfig {
  std::optional<double> ttft_ms;
  std::optional<double> tpot_ms;
  std::optional<double> e2el_ms;
  bool empty() const { return !ttft_ms && !tpot_ms && !e2el_ms; }
};

// "ttft:200,tpot:50" (any subset of ttft, tpot, e2el, each once, positive numbers). "" is empty.
absl::StatusOr<SloConfig> ParseSlo(absl::string_view text);
std::string SloToString(const SloConfig& slo);

struct CapacityTarget {
  enum class Kind { kP99Tbt, kGoodput };
  Kind kind = Kind::kP99Tbt;
  double value = 0;  // milliseconds for kP99Tbt, a fraction in (0, 1] for kGoodput
  // kP99Tbt only: a probe also fails when the median TTFT exceeds this (0: no bound). A
  // stall-free scheduler keeps time-between-tokens low however long its queue grows, so without
  // a queueing bound every rate would "meet" the TBT target; Sarathi-Serve's capacity runs bound
  // the median scheduling delay the same way (2 s).
  double max_median_ttft_ms = 0;
};

// "p99-tbt:100" or "goodput:0.9" (also "p99_tbt", as absl may have rewritten dashes).
absl::StatusOr<CapacityTarget> ParseCapacityTarget(absl::string_view text);
std::string CapacityTargetToString(const CapacityTarget& target);

}  // namespace stride::server::loadgen
