// When each request of a benchmark is sent: a Gamma renewal process, as vLLM's `bench serve`
// draws it. Inter-arrival times are Gamma(shape = burstiness, scale = 1 / (rate * burstiness)),
// so their mean is 1 / rate and their coefficient of variation 1 / sqrt(burstiness):
// burstiness 1 is a Poisson process, < 1 burstier, > 1 more regular. An infinite rate sends
// everything at once.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace stride::server::loadgen {

// Send times in seconds after the benchmark starts, one per request: the first at 0, each next
// one a fresh Gamma draw later. Deterministic for a seed. Errors when rate <= 0 or
// burstiness <= 0 (rate may be +infinity: every offset is 0).
absl::StatusOr<std::vector<double>> ArrivalOffsets(int num_requests, double rate, double burstiness,
                                                   uint64_t seed);

}  // namespace stride::server::loadgen
