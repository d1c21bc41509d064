// The JSON result of a run (`--result`), with the field names of vLLM's `bench serve` so
// existing scripts read it: completed, failed, duration, total_input_tokens,
// total_output_tokens, request_throughput, request_goodput (null without SLOs),
// output_throughput, total_token_throughput, {mean,median,std,p90,p99}_{ttft,tpot,itl,e2el}_ms,
// and per-request arrays in seconds (ttfts, itls) and tokens (input_lens, output_lens), errors.
// Extra fields (tpots, e2els, slo_attainment, capacity_search, ...) are additions.
#pragma once

#include <cstdint>
#include <string>

#include "nlohmann/json.hpp"
#include "server/loadgen/capacity_search.h"
#include "server/loadgen/metrics.h"

namespace stride::server::loadgen {

// What was run, recorded beside the figures.
struct RunInfo {
  std::string date;  // e.g. "20261130-143000"
  std::string url;
  std::string endpoint;  // "completions" or "chat"
  std::string model;
  std::string dataset;  // "random", "sharegpt-like" or the file
  int num_prompts = 0;
  double request_rate = 0;  // may be infinite
  double burstiness = 1;
  int max_concurrency = 0;  // 0: none
  uint64_t seed = 0;
  std::string slo;  // as given to --slo
};

nlohmann::json ResultJson(const BenchmarkMetrics& metrics, const RunInfo& info);

// The capacity search's probes and answer, for the "capacity_search" field.
nlohmann::json CapacitySearchJson(const CapacitySearchResult& search, const CapacityTarget& target);

}  // namespace stride::server::loadgen
