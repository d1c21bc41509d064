#include "server/loadgen/result_json.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace stride::server::loadgen {
namespace {

using Json = nlohmann::json;

void AddSummary(Json& out, const char* metric, const Summary& s) {
  out[absl::StrCat("mean_", metric, "_ms")] = s.mean;
  out[absl::StrCat("median_", metric, "_ms")] = s.median;
  out[absl::StrCat("std_", metric, "_ms")] = s.std;
  out[absl::StrCat("p90_", metric, "_ms")] = s.p90;
  out[absl::StrCat("p99_", metric, "_ms")] = s.p99;
}

}  // namespace

Json ResultJson(const BenchmarkMetrics& m, const RunInfo& info) {
  Json out = Json::object();
  out["date"] = info.date;
  out["backend"] = info.endpoint == "chat" ? "openai-chat" : "openai";
  out["endpoint_type"] = info.endpoint;
  out["base_url"] = info.url;
  out["model_id"] = info.model;
  out["dataset"] = info.dataset;
  out["num_prompts"] = info.num_prompts;
  out["request_rate"] = std::isinf(info.request_rate) ? Json("inf") : Json(info.request_rate);
  out["burstiness"] = info.burstiness;
  out["max_concurrency"] = info.max_concurrency > 0 ? Json(info.max_concurrency) : Json(nullptr);
  out["seed"] = info.seed;
  out["slo"] = info.slo;
  out["duration"] = m.duration_s;
  out["completed"] = m.completed;
  out["failed"] = m.failed;
  out["total_input_tokens"] = m.total_input_tokens;
  out["total_output_tokens"] = m.total_output_tokens;
  out["request_throughput"] = m.request_throughput;
  out["request_goodput"] = m.has_slo ? Json(m.request_goodput) : Json(nullptr);
  out["slo_attainment"] = m.has_slo ? Json(m.slo_attainment) : Json(nullptr);
  out["output_throughput"] = m.output_throughput;
  out["total_token_throughput"] = m.total_token_throughput;
  AddSummary(out, "ttft", m.ttft_ms);
  AddSummary(out, "tpot", m.tpot_ms);
  AddSummary(out, "itl", m.itl_ms);
  AddSummary(out, "e2el", m.e2el_ms);
  out["input_lens"] = m.input_lens;
  out["output_lens"] = m.output_lens;
  out["ttfts"] = m.ttfts;
  out["itls"] = m.itls;
  out["tpots"] = m.tpots;
  out["e2els"] = m.e2els;
  out["errors"] = m.errors;
  return out;
}

Json CapacitySearchJson(const CapacitySearchResult& search, const CapacityTarget& target) {
  Json probes = Json::array();
  for (const CapacityProbe& probe : search.probes) {
    probes.push_back({{"request_rate", probe.rate},
                      {"meets_target", probe.verdict.meets},
                      {"measure", probe.verdict.measure}});
  }
  return {
      {"target", CapacityTargetToString(target)},
      {"measure", target.kind == CapacityTarget::Kind::kP99Tbt ? "p99_itl_ms" : "slo_attainment"},
      {"probes", probes},
      {"capacity_request_rate", search.capacity ? Json(*search.capacity) : Json(nullptr)},
      {"capped_at_max_rate", search.capped_at_max},
      {"converged", search.converged},
      {"lowest_failing_rate",
       search.lowest_failing_rate ? Json(*search.lowest_failing_rate) : Json(nullptr)}};
}

}  // namespace stride::server::loadgen
