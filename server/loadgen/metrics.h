// Aggregate serving metrics of one benchmark run, with vLLM's `bench serve` definitions:
// throughputs over the run's duration; TTFT, TPOT, ITL and E2E latency summaries over the
// successful requests (TPOT only over those with more than one output token; ITLs pooled over
// all requests); goodput = successful requests meeting every given SLO per second (a request
// with <= 1 output token has TPOT 0 there). Inputs count for successful requests only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "server/loadgen/request_outcome.h"
#include "server/loadgen/slo.h"
#include "server/loadgen/statistics.h"

namespace stride::server::loadgen {

struct BenchmarkMetrics {
  int num_requests = 0;
  int completed = 0;
  int failed = 0;
  double duration_s = 0;
  int64_t total_input_tokens = 0;
  int64_t total_output_tokens = 0;
  double request_throughput = 0;      // completed / s
  double output_throughput = 0;       // output tokens / s
  double total_token_throughput = 0;  // (input + output tokens) / s
  bool has_slo = false;
  int good_requests = 0;       // successful requests meeting every SLO
  double request_goodput = 0;  // good_requests / s
  double slo_attainment = 0;   // good_requests / num_requests (a failure is a miss)
  Summary ttft_ms;
  Summary tpot_ms;
  Summary itl_ms;
  Summary e2el_ms;
  // Per request, in request order, seconds (vLLM's arrays); a failed request has 0 and no ITLs.
  std::vector<double> ttfts;
  std::vector<double> tpots;
  std::vector<double> e2els;
  std::vector<std::vector<double>> itls;
  std::vector<int64_t> input_lens;
  std::vector<int64_t> output_lens;
  std::vector<std::string> errors;
  std::vector<bool> meets_slo;
};

BenchmarkMetrics ComputeMetrics(const std::vector<RequestOutcome>& outcomes, double duration_s,
                                const SloConfig& slo);

// Whether one successful request meets every given SLO (<= each bound).
bool MeetsSlo(const RequestTimings& timings, const SloConfig& slo);

}  // namespace stride::server::loadgen
