#include "server/loadgen/metrics.h"

namespace stride::server::loadgen {

RequestTimings DeriveTimings(const RequestOutcome& outcome) {
  RequestTimings t;
  if (!outcome.success || outcome.chunk_times.empty()) return t;
  const std::vector<double>& chunks = outcome.chunk_times;
  t.ttft = chunks.front() - outcome.send_time;
  t.latency = chunks.back() - outcome.send_time;
  t.itls.reserve(chunks.size() - 1);
  for (size_t i = 1; i < chunks.size(); ++i) t.itls.push_back(chunks[i] - chunks[i - 1]);
  t.output_tokens = outcome.usage_output_tokens >= 0 ? outcome.usage_output_tokens
                                                     : static_cast<int64_t>(chunks.size());
  if (t.output_tokens > 1) {
    t.tpot = (t.latency - t.ttft) / static_cast<double>(t.output_tokens - 1);
  }
  return t;
}

bool MeetsSlo(const RequestTimings& timings, const SloConfig& slo) {
  if (slo.ttft_ms && timings.ttft * 1000 > *slo.ttft_ms) return false;
  if (slo.tpot_ms && timings.tpot * 1000 > *slo.tpot_ms) return false;
  if (slo.e2el_ms && timings.latency * 1000 > *slo.e2el_ms) return false;
  return true;
}

BenchmarkMetrics ComputeMetrics(const std::vector<RequestOutcome>& outcomes, double duration_s,
                                const SloConfig& slo) {
  BenchmarkMetrics m;
  m.num_requests = static_cast<int>(outcomes.size());
  m.duration_s = duration_s;
  m.has_slo = !slo.empty();
  std::vector<double> ttfts, tpots, itls, e2els;  // successful requests only, for summaries
  for (const RequestOutcome& outcome : outcomes) {
    const bool ok = outcome.success && !outcome.chunk_times.empty();
    const RequestTimings t = DeriveTimings(outcome);
    m.input_lens.push_back(outcome.input_len);
    m.output_lens.push_back(ok ? t.output_tokens : 0);
    m.ttfts.push_back(t.ttft);
    m.tpots.push_back(t.tpot);
    m.e2els.push_back(t.latency);
    m.itls.push_back(t.itls);
    m.errors.push_back(ok ? "" : (outcome.error.empty() ? "no token received" : outcome.error));
    const bool good = ok && m.has_slo && MeetsSlo(t, slo);
    m.meets_slo.push_back(good);
    if (!ok) {
      ++m.failed;
      continue;
    }
    ++m.completed;
    m.good_requests += good;
    m.total_input_tokens += outcome.input_len;
    m.total_output_tokens += t.output_tokens;
    ttfts.push_back(t.ttft);
    if (t.output_tokens > 1) tpots.push_back(t.tpot);
    e2els.push_back(t.latency);
    itls.insert(itls.end(), t.itls.begin(), t.itls.end());
  }
  if (duration_s > 0) {
    m.request_throughput = m.completed / duration_s;
    m.output_throughput = static_cast<double>(m.total_output_tokens) / duration_s;
    m.total_token_throughput =
        static_cast<double>(m.total_input_tokens + m.total_output_tokens) / duration_s;
    m.request_goodput = m.good_requests / duration_s;
  }
  if (m.num_requests > 0) {
    m.slo_attainment = static_cast<double>(m.good_requests) / m.num_requests;
  }
  m.ttft_ms = Summarize(ttfts, 1000);
  m.tpot_ms = Summarize(tpots, 1000);
  m.itl_ms = Summarize(itls, 1000);
  m.e2el_ms = Summarize(e2els, 1000);
  return m;
}

}  // namespace stride::server::loadgen
