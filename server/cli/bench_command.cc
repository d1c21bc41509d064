// `stride bench`: a load tester for OpenAI-compatible servers, measured the way vLLM's
// `vllm bench serve` measures (server/loadgen). Sends a data set at a Gamma-process request
// rate, prints the result table (and a progress bar on a terminal), writes the JSON result and
// an HTML report; with --capacity-search, finds the highest rate that meets --target.
#include <unistd.h>

#include <sys/resource.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/text/tokenizer.h"
#include "server/cli/bench_flags.h"
#include "server/cli/commands.h"
#include "server/loadgen/capacity_search.h"
#include "server/loadgen/dataset.h"
#include "server/loadgen/html_report.h"
#include "server/loadgen/metrics.h"
#include "server/loadgen/result_json.h"
#include "server/loadgen/runner.h"
#include "server/loadgen/text_report.h"

namespace stride::server::cli {
namespace {

namespace lg = loadgen;

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "stride bench: %s\n", std::string(status.message()).c_str());
  return 1;
}

absl::StatusOr<std::vector<lg::BenchRequest>> LoadDataset(const BenchOptions& o) {
  if (o.dataset == "random") {
    lg::RandomDatasetOptions random;
    random.num_prompts = o.num_prompts;
    random.input_len = o.input_len;
    random.output_len = o.output_len;
    random.range_ratio = o.range_ratio;
    random.vocab_size = o.vocab_size;
    random.seed = o.seed;
    return lg::RandomDataset(random);
  }
  if (o.dataset == "sharegpt-like" || o.dataset == "sharegpt_like") {
    std::fprintf(stderr,
                 "stride bench: sharegpt-like: lengths drawn from a built-in log-normal fit "
                 "resembling ShareGPT (mean ~213 in / ~204 out), random token ids; not the real "
                 "conversations\n");
    return lg::ShareGptLikeDataset(o.num_prompts, o.vocab_size, o.seed);
  }
  return lg::LoadJsonlDataset(o.dataset, o.num_prompts, o.output_len);
}

// The chat API takes text: decode token-id prompts with --tokenizer when given (otherwise the
// request body stands one word in for each id).
absl::Status PrepareChatPrompts(const BenchOptions& o, std::vector<lg::BenchRequest>& requests) {
  if (o.api != lg::ApiKind::kChat || o.tokenizer_dir.empty()) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<engine::text::Tokenizer>> tokenizer =
      engine::text::Tokenizer::FromDirectory(o.tokenizer_dir);
  if (!tokenizer.ok()) return tokenizer.status();
  for (lg::BenchRequest& request : requests) {
    if (request.prompt_ids.empty()) continue;
    absl::StatusOr<std::string> text =
        (*tokenizer)->Decode(request.prompt_ids, /*skip_special_tokens=*/true);
    if (!text.ok()) return text.status();
    request.prompt_text = *std::move(text);
  }
  return absl::OkStatus();
}

// Many requests at once need many sockets: lift the soft open-file limit to the hard one.
void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Draws the progress line on stderr at most 10 times a second, only on a terminal.
class ProgressBar {
 public:
  ProgressBar() : enabled_(isatty(STDERR_FILENO) == 1) {}
  void Update(const lg::RunProgress& p) {
    if (!enabled_) return;
    const absl::Time now = absl::Now();
    if (p.finished < p.total && now - last_ < absl::Milliseconds(100)) return;
    last_ = now;
    std::fprintf(stderr, "\r%s\033[K", lg::ProgressLine(p, 40).c_str());
    if (p.finished == p.total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  absl::Time last_ = absl::InfinitePast();
};

struct RunOutput {
  lg::RunResult run;
  lg::BenchmarkMetrics metrics;
};

absl::StatusOr<RunOutput> RunOnce(const BenchOptions& o, const std::string& model,
                                  const std::vector<lg::BenchRequest>& requests, double rate,
                                  bool progress) {
  lg::RunOptions run;
  run.target = o.target;
  run.api = o.api;
  run.model = model;
  run.api_key = o.api_key;
  run.request_rate = rate;
  run.burstiness = o.burstiness;
  run.max_concurrency = o.max_concurrency;
  run.seed = o.seed;
  run.request_timeout_s = o.request_timeout_s;
  ProgressBar bar;
  if (progress) run.on_progress = [&bar](const lg::RunProgress& p) { bar.Update(p); };
  absl::StatusOr<lg::RunResult> result = lg::RunBenchmark(run, requests);
  if (!result.ok()) return result.status();
  RunOutput out;
  out.metrics = lg::ComputeMetrics(result->outcomes, result->duration_s, o.slo);
  out.run = *std::move(result);
  return out;
}

// One short request first, as vLLM does, so a wrong URL, model or key fails in a second
// instead of after a whole run of errors.
absl::Status CheckServer(const BenchOptions& o, const std::string& model,
                         const lg::BenchRequest& first) {
  lg::BenchRequest probe = first;
  probe.output_len = std::min(probe.output_len, 4);
  absl::StatusOr<RunOutput> out = RunOnce(o, model, {probe}, o.request_rate, false);
  if (!out.ok()) return out.status();
  const lg::RequestOutcome& outcome = out->run.outcomes.front();
  if (!outcome.success) {
    return absl::UnavailableError(
        absl::StrCat("the test request to ", o.url, " failed: ", outcome.error));
  }
  return absl::OkStatus();
}

std::string DateNow() {
  return absl::FormatTime("%Y%m%d-%H%M%S", absl::Now(), absl::LocalTimeZone());
}

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary);
  file << text;
  file.close();
  if (!file) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace

int RunBench(const std::vector<char*>& args) {
  if (args.size() > 1) {
    return Fail(absl::InvalidArgumentError(absl::StrCat("unexpected argument '", args[1], "'")));
  }
  absl::StatusOr<BenchOptions> options = BenchOptionsFromFlags();
  if (!options.ok()) return Fail(options.status());
  const BenchOptions& o = *options;
  absl::StatusOr<std::vector<lg::BenchRequest>> requests = LoadDataset(o);
  if (!requests.ok()) return Fail(requests.status());
  if (absl::Status s = PrepareChatPrompts(o, *requests); !s.ok()) return Fail(s);
  RaiseFileLimit();

  std::string model = o.model;
  if (model.empty()) {
    absl::StatusOr<std::string> listed = lg::FetchFirstModel(o.target, o.api_key, 30);
    if (listed.ok()) {
      model = *listed;
    } else {
      std::fprintf(stderr, "stride bench: %s; requests name no model\n",
                   std::string(listed.status().message()).c_str());
    }
  }
  if (absl::Status s = CheckServer(o, model, requests->front()); !s.ok()) return Fail(s);

  lg::RunInfo info;
  info.date = DateNow();
  info.url = o.url;
  info.endpoint = o.endpoint;
  info.model = model;
  info.dataset = o.dataset;
  info.num_prompts = o.num_prompts;
  info.request_rate = o.request_rate;
  info.burstiness = o.burstiness;
  info.max_concurrency = o.max_concurrency;
  info.seed = o.seed;
  info.slo = lg::SloToString(o.slo);

  std::optional<RunOutput> shown;  // the run the table, JSON and report describe
  std::optional<lg::CapacitySearchResult> search;
  if (!o.capacity_target) {
    std::fprintf(stderr, "stride bench: %d requests to %s at %s req/s\n", o.num_prompts,
                 o.url.c_str(),
                 std::isinf(o.request_rate) ? "inf" : absl::StrCat(o.request_rate).c_str());
    absl::StatusOr<RunOutput> out = RunOnce(o, model, *requests, o.request_rate, true);
    if (!out.ok()) return Fail(out.status());
    shown = *std::move(out);
  } else {
    const lg::CapacityTarget target = *o.capacity_target;
    std::printf("capacity search: %s, %d requests per probe\n",
                lg::CapacityTargetToString(target).c_str(), o.num_prompts);
    std::optional<double> best_rate;
    auto probe = [&](double rate) -> absl::StatusOr<lg::ProbeVerdict> {
      absl::StatusOr<RunOutput> out = RunOnce(o, model, *requests, rate, true);
      if (!out.ok()) return out.status();
      const lg::ProbeVerdict verdict = lg::JudgeProbe(out->metrics, target);
      std::printf("%s\n", lg::ProbeLine({rate, verdict}, target, out->metrics).c_str());
      std::fflush(stdout);
      if (verdict.meets && (!best_rate || rate > *best_rate)) {
        best_rate = rate;
        shown = *std::move(out);
      } else if (!best_rate) {
        shown = *std::move(out);  // nothing passed yet: keep the latest for the report
      }
      return verdict;
    };
    absl::StatusOr<lg::CapacitySearchResult> result = lg::SearchCapacity(o.search, probe);
    if (!result.ok()) return Fail(result.status());
    search = *std::move(result);
    if (!search->converged) {
      std::printf(
          "capacity search: %d probes spent before the answer was bracketed within "
          "--search-tolerance\n",
          static_cast<int>(search->probes.size()));
    }
    if (search->capacity) {
      const std::string bound =
          search->lowest_failing_rate
              ? absl::StrFormat(" (%.3f req/s misses)", *search->lowest_failing_rate)
              : " (no probed rate missed: it may be more)";
      std::printf("capacity: %.3f req/s meets %s%s\n", *search->capacity,
                  lg::CapacityTargetToString(target).c_str(), bound.c_str());
      info.request_rate = *search->capacity;
    } else {
      std::printf("capacity: no probed rate (down to %g req/s) meets %s\n", o.search.min_rate,
                  lg::CapacityTargetToString(target).c_str());
    }
  }

  const std::string title =
      search ? "Serving Benchmark Result (capacity)" : "Serving Benchmark Result";
  std::printf("%s", lg::ResultTable(shown->metrics, title).c_str());
  std::fflush(stdout);
  if (!o.result_path.empty()) {
    nlohmann::json json = lg::ResultJson(shown->metrics, info);
    if (search) json["capacity_search"] = lg::CapacitySearchJson(*search, *o.capacity_target);
    if (absl::Status s = WriteFile(
            o.result_path, json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
        !s.ok())
      return Fail(s);
  }
  if (!o.report_path.empty()) {
    lg::CapacityReport capacity;
    if (search) capacity = {&*search, *o.capacity_target};
    const std::string html = lg::HtmlReport(shown->metrics, shown->run.outcomes, info, capacity);
    if (absl::Status s = WriteFile(o.report_path, html); !s.ok()) return Fail(s);
  }
  return 0;
}

}  // namespace stride::server::cli
