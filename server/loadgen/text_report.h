// What `stride bench` prints on the terminal: the result table (laid out like vLLM's), the
// progress line drawn while a run goes on, and one line per capacity-search probe.
#pragma once

#include <string>

#include "server/loadgen/capacity_search.h"
#include "server/loadgen/metrics.h"
#include "server/loadgen/runner.h"

namespace stride::server::loadgen {

std::string ResultTable(const BenchmarkMetrics& metrics, const std::string& title);

// "[#####.....]  512/1000  fail 0  12.3 s" in `width` columns of bar.
std::string ProgressLine(const RunProgress& progress, int width);

std::string ProbeLine(const CapacityProbe& probe, const CapacityTarget& target,
                      const BenchmarkMetrics& metrics);

}  // namespace stride::server::loadgen
