// The self-contained HTML report of a run (`--report FILE.html`): what was run, the result
// table, latency CDFs (TTFT, TPOT, ITL, E2EL), output throughput and requests in flight over
// time, and the capacity search's probes when there was one. Inline SVG only, no scripts.
#pragma once

#include <string>
#include <vector>

#include "server/loadgen/capacity_search.h"
#include "server/loadgen/metrics.h"
#include "server/loadgen/request_outcome.h"
#include "server/loadgen/result_json.h"

namespace stride::server::loadgen {

struct CapacityReport {
  const CapacitySearchResult* search = nullptr;
  CapacityTarget target;
};

std::string HtmlReport(const BenchmarkMetrics& metrics, const std::vector<RequestOutcome>& outcomes,
                       const RunInfo& info, const CapacityReport& capacity = {});

}  // namespace stride::server::loadgen
