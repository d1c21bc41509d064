// What `GET /metrics` reports, in the Prometheus text exposition format with vLLM-like names
// under a `stride:` prefix: request counts by outcome, HTTP responses by status, latency
// histograms (time to first token, inter-token, end-to-end, queue time) recorded by the HTTP
// front end, and engine gauges/counters (running and waiting requests, KV usage and free blocks,
// preemptions, prefix-cache hits, token totals) read from EngineStats when rendering.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "engine/engine.h"
#include "server/metrics/histogram.h"

namespace stride::server::metrics {

// How a generation request ended, for stride:requests_total{outcome=...}.
enum class Outcome { kStop, kLength, kAborted, kError, kRejected };
inline constexpr int kNumOutcomes = 5;
const char* OutcomeName(Outcome outcome);

class ServerMetrics {
 public:
  explicit ServerMetrics(std::string model_name);

  void RecordOutcome(Outcome outcome);
  void RecordHttpStatus(int status);
  void ObserveTimeToFirstToken(double seconds) { ttft_.Observe(seconds); }
  void ObserveInterTokenLatency(double seconds) { itl_.Observe(seconds); }
  void ObserveEndToEndLatency(double seconds) { e2e_.Observe(seconds); }
  void ObserveQueueTime(double seconds) { queue_.Observe(seconds); }

  // The whole exposition. `stats` is null while the engine loads.
  std::string Render(const engine::EngineStats* stats) const;

  int64_t outcome_count(Outcome outcome) const;

 private:
  const std::string labels_;  // model_name="..."
  std::atomic<int64_t> outcomes_[kNumOutcomes] = {};
  // Indexed by status / 100 (1xx..5xx).
  std::atomic<int64_t> http_status_classes_[6] = {};
  Histogram ttft_;
  Histogram itl_;
  Histogram e2e_;
  Histogram queue_;
};

// Escapes a label value (backslash, double quote, newline).
std::string EscapeLabelValue(absl::string_view value);

}  // namespace stride::server::metrics
