// Runs one benchmark: sends the requests at their Gamma-process arrival times (arrivals.h),
// at most max_concurrency at once when set (later arrivals wait their turn, and their send
// time is when they actually go out, as in vLLM), all from one thread driving an Asio
// io_context. Returns each request's raw outcome and the run's duration (first arrival to last
// response).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/loadgen/dataset.h"
#include "server/loadgen/request_body.h"
#include "server/loadgen/request_outcome.h"
#include "server/loadgen/sse_stream.h"

namespace stride::server::loadgen {

struct RunProgress {
  int total = 0;
  int sent = 0;
  int finished = 0;
  int failed = 0;
  double elapsed_s = 0;
};

struct RunOptions {
  HttpTarget target;
  ApiKind api = ApiKind::kCompletions;
  std::string model;    // "" leaves "model" out of the requests
  std::string api_key;  // "" sends no Authorization header
  double request_rate = std::numeric_limits<double>::infinity();
  double burstiness = 1.0;
  int max_concurrency = 0;  // 0: no cap
  uint64_t seed = 0;        // of the arrival process
  double request_timeout_s = 6 * 3600;
  // Called on the run's thread after each request is sent and after each finishes (cheap!).
  std::function<void(const RunProgress&)> on_progress;
};

struct RunResult {
  std::vector<RequestOutcome> outcomes;  // in data-set order
  double duration_s = 0;
  int connections_opened = 0;
};

// Fails only when the run cannot start (bad options, host does not resolve); failed requests
// are outcomes.
absl::StatusOr<RunResult> RunBenchmark(const RunOptions& options,
                                       const std::vector<BenchRequest>& requests);

// GET base/v1/models and return the first model's id (what vLLM's bench does without
// --model). Synchronous, with a timeout.
absl::StatusOr<std::string> FetchFirstModel(const HttpTarget& target, const std::string& api_key,
                                            double timeout_s);

}  // namespace stride::server::loadgen
