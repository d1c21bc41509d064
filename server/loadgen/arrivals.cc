#include "server/loadgen/arrivals.h"

#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"

namespace stride::server::loadgen {

absl::StatusOr<std::vector<double>> ArrivalOffsets(int num_requests, double rate, double burstiness,
                                                   uint64_t seed) {
  if (num_requests < 0) return absl::InvalidArgumentError("the number of requests must be >= 0");
  if (!(rate > 0))
    return absl::InvalidArgumentError(absl::StrCat("request rate must be > 0, got ", rate));
  if (!(burstiness > 0) || std::isinf(burstiness)) {
    return absl::InvalidArgumentError(
        absl::StrCat("burstiness must be a finite number > 0, got ", burstiness));
  }
  std::vector<double> offsets(num_requests, 0.0);
  if (std::isinf(rate)) return offsets;
  std::mt19937_64 generator(seed);
  std::gamma_distribution<double> interval(burstiness, 1.0 / (rate * burstiness));
  double t = 0;
  for (int i = 1; i < num_requests; ++i) {
    t += interval(generator);
    offsets[i] = t;
  }
  return offsets;
}

}  // namespace stride::server::loadgen
