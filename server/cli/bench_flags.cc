#include "server/cli/bench_flags.h"

#include <cmath>
#include <limits>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/cli/common_flags.h"
#include "server/cli/engine_flags.h"

ABSL_DECLARE_FLAG(std::string, api_key);  // server/cli/serve_command.cc
ABSL_DECLARE_FLAG(std::string, seed);     // server/cli/generate_command.cc

ABSL_FLAG(std::string, url, "http://127.0.0.1:8000", "bench: the server, http://HOST:PORT[/PATH]");
ABSL_FLAG(std::string, endpoint, "completions",
          "bench: completions (/v1/completions, token-id prompts) or chat (/v1/chat/completions)");
ABSL_FLAG(std::string, dataset, "random",
          "bench: random, sharegpt-like (built-in ShareGPT-like lengths) or a JSONL file of "
          "{\"prompt\" | \"prompt_ids\", \"output_len\"}");
ABSL_FLAG(int, input_len, 1024, "bench: random data set: prompt tokens");
ABSL_FLAG(int, output_len, 128, "bench: random data set (and JSONL default): output tokens");
ABSL_FLAG(double, range_ratio, 0.0,
          "bench: random lengths uniform in [len*(1-r), len*(1+r)]; r in [0, 1)");
ABSL_FLAG(int, vocab_size, 32000, "bench: random token ids are drawn from [0, N)");
ABSL_FLAG(int, num_prompts, 1000, "bench: requests to send");
ABSL_FLAG(std::string, request_rate, "inf",
          "bench: requests per second (Gamma arrivals), or inf to send all at once");
ABSL_FLAG(double, burstiness, 1.0,
          "bench: Gamma shape of inter-arrival times; 1 = Poisson, < 1 burstier");
ABSL_FLAG(int, max_concurrency, 0, "bench: requests in flight at most; 0: no cap");
ABSL_FLAG(double, request_timeout, 6 * 3600, "bench: seconds one request may take");
ABSL_FLAG(std::string, slo, "",
          "bench: SLOs for goodput, e.g. ttft:250,tpot:100,e2el:20000 (milliseconds)");
ABSL_FLAG(bool, capacity_search, false,
          "bench: binary-search the highest request rate that meets --target");
ABSL_FLAG(std::string, target, "",
          "bench: capacity target, p99-tbt:MS (P99 inter-token latency) or goodput:FRACTION "
          "(share of requests meeting every --slo)");
ABSL_FLAG(double, search_min_rate, 1.0 / 64, "bench: capacity search: lowest rate probed");
ABSL_FLAG(double, search_max_rate, 4096, "bench: capacity search: highest rate probed");
ABSL_FLAG(int, search_max_probes, 12, "bench: capacity search: runs at most");
ABSL_FLAG(double, search_max_median_ttft, 2000,
          "bench: capacity search under p99-tbt: a probe whose median TTFT (ms) exceeds this is "
          "overloaded and fails; 0: no bound");
ABSL_FLAG(double, search_tolerance, 0.05,
          "bench: capacity search: stop when the bracket is within this share of the rate");
ABSL_FLAG(std::string, result, "", "bench: write the JSON result (vLLM's field names) here");
ABSL_FLAG(std::string, report, "", "bench: write a self-contained HTML report here");

namespace stride::server::cli {

absl::StatusOr<BenchOptions> BenchOptionsFromFlags() {
  BenchOptions o;
  o.url = absl::GetFlag(FLAGS_url);
  absl::StatusOr<loadgen::HttpTarget> target = loadgen::ParseHttpUrl(o.url);
  if (!target.ok()) return target.status();
  o.target = *target;
  o.endpoint = absl::GetFlag(FLAGS_endpoint);
  if (o.endpoint == "completions") {
    o.api = loadgen::ApiKind::kCompletions;
  } else if (o.endpoint == "chat") {
    o.api = loadgen::ApiKind::kChat;
  } else {
    return absl::InvalidArgumentError("--endpoint must be completions or chat");
  }
  o.model = absl::GetFlag(FLAGS_model);
  o.api_key = absl::GetFlag(FLAGS_api_key);
  o.tokenizer_dir = absl::GetFlag(FLAGS_tokenizer);
  o.dataset = absl::GetFlag(FLAGS_dataset);
  o.input_len = absl::GetFlag(FLAGS_input_len);
  o.output_len = absl::GetFlag(FLAGS_output_len);
  o.range_ratio = absl::GetFlag(FLAGS_range_ratio);
  o.vocab_size = absl::GetFlag(FLAGS_vocab_size);
  o.num_prompts = absl::GetFlag(FLAGS_num_prompts);
  if (o.num_prompts < 1) return absl::InvalidArgumentError("--num-prompts must be >= 1");
  const std::string rate = absl::AsciiStrToLower(absl::GetFlag(FLAGS_request_rate));
  if (rate == "inf") {
    o.request_rate = std::numeric_limits<double>::infinity();
  } else if (!absl::SimpleAtod(rate, &o.request_rate) || !(o.request_rate > 0) ||
             std::isnan(o.request_rate)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--request-rate must be a number > 0 or inf, not '", rate, "'"));
  }
  o.burstiness = absl::GetFlag(FLAGS_burstiness);
  if (!(o.burstiness > 0) || std::isinf(o.burstiness)) {
    return absl::InvalidArgumentError("--burstiness must be a finite number > 0");
  }
  o.max_concurrency = absl::GetFlag(FLAGS_max_concurrency);
  if (o.max_concurrency < 0) return absl::InvalidArgumentError("--max-concurrency must be >= 0");
  o.request_timeout_s = absl::GetFlag(FLAGS_request_timeout);
  if (!(o.request_timeout_s > 0)) {
    return absl::InvalidArgumentError("--request-timeout must be > 0 seconds");
  }
  if (const std::string seed = absl::GetFlag(FLAGS_seed);
      !seed.empty() && !absl::SimpleAtoi(seed, &o.seed)) {
    return absl::InvalidArgumentError("--seed must be an unsigned integer, not '" + seed + "'");
  }
  o.slo_text = absl::GetFlag(FLAGS_slo);
  absl::StatusOr<loadgen::SloConfig> slo = loadgen::ParseSlo(o.slo_text);
  if (!slo.ok()) return slo.status();
  o.slo = *slo;
  const std::string target_text = absl::GetFlag(FLAGS_target);
  if (absl::GetFlag(FLAGS_capacity_search)) {
    if (target_text.empty()) {
      return absl::InvalidArgumentError(
          "--capacity-search needs --target p99-tbt:MS or --target goodput:FRACTION");
    }
    absl::StatusOr<loadgen::CapacityTarget> capacity = loadgen::ParseCapacityTarget(target_text);
    if (!capacity.ok()) return capacity.status();
    if (capacity->kind == loadgen::CapacityTarget::Kind::kGoodput && o.slo.empty()) {
      return absl::InvalidArgumentError(
          "--target goodput needs --slo (e.g. ttft:250,tpot:100, as DistServe)");
    }
    const double max_median_ttft = absl::GetFlag(FLAGS_search_max_median_ttft);
    if (!(max_median_ttft >= 0)) {
      return absl::InvalidArgumentError("--search-max-median-ttft must be >= 0 (ms)");
    }
    if (capacity->kind == loadgen::CapacityTarget::Kind::kP99Tbt) {
      capacity->max_median_ttft_ms = max_median_ttft;
    }
    o.capacity_target = *capacity;
    o.search.min_rate = absl::GetFlag(FLAGS_search_min_rate);
    o.search.max_rate = absl::GetFlag(FLAGS_search_max_rate);
    o.search.max_probes = absl::GetFlag(FLAGS_search_max_probes);
    o.search.relative_tolerance = absl::GetFlag(FLAGS_search_tolerance);
    // Start from --request-rate when given, clamped into the search range.
    o.search.initial_rate = std::isinf(o.request_rate) ? 1.0 : o.request_rate;
    o.search.initial_rate =
        std::min(std::max(o.search.initial_rate, o.search.min_rate), o.search.max_rate);
  } else if (!target_text.empty()) {
    return absl::InvalidArgumentError("--target is for --capacity-search");
  }
  o.result_path = absl::GetFlag(FLAGS_result);
  o.report_path = absl::GetFlag(FLAGS_report);
  return o;
}

}  // namespace stride::server::cli
