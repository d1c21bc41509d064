// The flags of `stride bench` (the load tester, server/loadgen) read into one typed, validated
// BenchOptions. Reused flags of other subcommands: --model (the served model name to request;
// empty: the first of GET /v1/models), --api-key, --seed (data set and arrivals; empty: 0) and
// --tokenizer (chat only: decodes token-id prompts into text).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "server/loadgen/capacity_search.h"
#include "server/loadgen/request_body.h"
#include "server/loadgen/slo.h"
#include "server/loadgen/sse_stream.h"

namespace stride::server::cli {

struct BenchOptions {
  std::string url;
  loadgen::HttpTarget target;
  loadgen::ApiKind api = loadgen::ApiKind::kCompletions;
  std::string endpoint;  // "completions" or "chat"
  std::string model;
  std::string api_key;
  std::string tokenizer_dir;
  std::string dataset;  // "random", "sharegpt-like" or a JSONL path
  int input_len = 0;
  int output_len = 0;
  double range_ratio = 0;
  int vocab_size = 0;
  int num_prompts = 0;
  double request_rate = 0;  // may be +infinity
  double burstiness = 1;
  int max_concurrency = 0;
  uint64_t seed = 0;
  double request_timeout_s = 0;
  loadgen::SloConfig slo;
  std::string slo_text;
  std::optional<loadgen::CapacityTarget> capacity_target;  // set with --capacity-search
  loadgen::CapacitySearchOptions search;
  std::string result_path;
  std::string report_path;
};

absl::StatusOr<BenchOptions> BenchOptionsFromFlags();

}  // namespace stride::server::cli
