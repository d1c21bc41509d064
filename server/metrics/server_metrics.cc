#include "server/metrics/server_metrics.h"

#include "absl/strings/str_cat.h"

namespace stride::server::metrics {
namespace {

void Header(std::string* out, absl::string_view name, absl::string_view type,
            absl::string_view help) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

void Sample(std::string* out, absl::string_view name, absl::string_view labels, double value) {
  absl::StrAppend(out, name, "{", labels, "} ", FormatMetricValue(value), "\n");
}

}  // namespace

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kStop:
      return "stop";
    case Outcome::kLength:
      return "length";
    case Outcome::kAborted:
      return "aborted";
    case Outcome::kError:
      return "error";
    case Outcome::kRejected:
      return "rejected";
  }
  return "";
}

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

ServerMetrics::ServerMetrics(std::string model_name)
    : labels_(absl::StrCat("model_name=\"", EscapeLabelValue(model_name), "\"")),
      ttft_({0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,  0.25,  0.5,   0.75,
             1.0,   2.5,   5.0,  7.5,  10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0}),
      itl_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1,  0.15, 0.2,  0.3,
            0.4,   0.5,    0.75,  1.0,  2.5,   5.0,  7.5,   10.0, 20.0, 40.0, 80.0}),
      e2e_({0.01, 0.05, 0.1,  0.3,  0.5,  0.8,  1.0,   1.5,   2.0,   2.5,   5.0,    10.0,
            15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0}),
      queue_({0.0001, 0.0005, 0.001, 0.005, 0.01,  0.05,  0.1,   0.3,  0.5,
              0.8,    1.0,    1.5,   2.0,   2.5,   5.0,   10.0,  15.0, 20.0,
              30.0,   40.0,   50.0,  60.0,  120.0, 240.0, 480.0, 960.0}) {}

void ServerMetrics::RecordOutcome(Outcome outcome) {
  outcomes_[static_cast<int>(outcome)].fetch_add(1, std::memory_order_relaxed);
}

void ServerMetrics::RecordHttpStatus(int status) {
  const int cls = status / 100;
  if (cls >= 1 && cls <= 5) http_status_classes_[cls].fetch_add(1, std::memory_order_relaxed);
}

int64_t ServerMetrics::outcome_count(Outcome outcome) const {
  return outcomes_[static_cast<int>(outcome)].load(std::memory_order_relaxed);
}

std::string ServerMetrics::Render(const engine::EngineStats* stats) const {
  std::string out;
  const std::string& l = labels_;
  Header(&out, "stride:requests_total", "counter",
         "Generation requests by outcome (stop, length, aborted, error, rejected).");
  for (int i = 0; i < kNumOutcomes; ++i) {
    Sample(&out, "stride:requests_total",
           absl::StrCat(l, ",outcome=\"", OutcomeName(static_cast<Outcome>(i)), "\""),
           static_cast<double>(outcomes_[i].load(std::memory_order_relaxed)));
  }
  Header(&out, "stride:http_responses_total", "counter", "HTTP responses by status class.");
  for (int cls = 1; cls <= 5; ++cls) {
    Sample(&out, "stride:http_responses_total", absl::StrCat(l, ",code=\"", cls, "xx\""),
           static_cast<double>(http_status_classes_[cls].load(std::memory_order_relaxed)));
  }
  Header(&out, "stride:time_to_first_token_seconds", "histogram",
         "Time from request arrival to its first generated token.");
  ttft_.Render("stride:time_to_first_token_seconds", l, &out);
  Header(&out, "stride:inter_token_latency_seconds", "histogram",
         "Time between consecutive generated tokens of a sequence.");
  itl_.Render("stride:inter_token_latency_seconds", l, &out);
  Header(&out, "stride:e2e_request_latency_seconds", "histogram",
         "Time from request arrival to its last token.");
  e2e_.Render("stride:e2e_request_latency_seconds", l, &out);
  Header(&out, "stride:request_queue_time_seconds", "histogram",
         "Time from request arrival until the engine first reported progress on it "
         "(front-end work plus waiting for the scheduler).");
  queue_.Render("stride:request_queue_time_seconds", l, &out);
  if (stats == nullptr) return out;

  auto gauge = [&](const char* name, const char* help, double value) {
    Header(&out, name, "gauge", help);
    Sample(&out, name, l, value);
  };
  auto counter = [&](const char* name, const char* help, double value) {
    Header(&out, name, "counter", help);
    Sample(&out, name, l, value);
  };
  gauge("stride:num_requests_running", "Sequences in the running batch.", stats->num_running);
  gauge("stride:num_requests_waiting", "Sequences waiting to be scheduled.", stats->num_waiting);
  gauge("stride:kv_cache_usage_perc", "Fraction of KV-cache blocks in use (0 to 1).",
        stats->kv_usage);
  gauge("stride:kv_free_blocks", "Free KV-cache blocks (including cached, evictable ones).",
        stats->num_free_kv_blocks);
  gauge("stride:kv_total_blocks", "KV-cache blocks in the pool.", stats->num_total_kv_blocks);
  counter("stride:num_preemptions_total", "Preemptions (requests evicted and recomputed).",
          static_cast<double>(stats->num_preemptions));
  counter("stride:prompt_tokens_total", "Prompt tokens of admitted requests.",
          static_cast<double>(stats->num_prompt_tokens));
  counter("stride:prompt_tokens_computed_total",
          "Prompt tokens the engine ran (prefix-cache hits excluded, recomputation included).",
          static_cast<double>(stats->num_prompt_tokens_computed));
  counter("stride:generation_tokens_total", "Tokens generated.",
          static_cast<double>(stats->num_generated_tokens));
  counter("stride:prefix_cache_queries_total", "Prompt tokens looked up in the prefix cache.",
          static_cast<double>(stats->prefix_cache_query_tokens));
  counter("stride:prefix_cache_hits_total", "Prompt tokens found in the prefix cache.",
          static_cast<double>(stats->prefix_cache_hit_tokens));
  const double rate = stats->prefix_cache_query_tokens > 0
                          ? static_cast<double>(stats->prefix_cache_hit_tokens) /
                                static_cast<double>(stats->prefix_cache_query_tokens)
                          : 0.0;
  gauge("stride:prefix_cache_hit_rate", "Prefix-cache hits / queries, in tokens, since start.",
        rate);
  counter("stride:engine_steps_total", "Engine steps run.", static_cast<double>(stats->num_steps));
  return out;
}

}  // namespace stride::server::metrics
