// What the load generator recorded for one request: raw timestamps only. Every latency metric is
// a pure function of these (metrics.h), so the definitions are tested without a network.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace stride::server::loadgen {

struct RequestOutcome {
  bool success = false;
  std::string error;      // why it failed; empty on success
  int64_t input_len = 0;  // prompt tokens (the data set's count, else the server's usage)
  int64_t usage_output_tokens = -1;  // usage.completion_tokens; -1: the server reported none
  double send_time = 0;              // seconds since the benchmark started
  std::vector<double> chunk_times;   // arrival of each streamed token chunk, same clock
  double end_time = 0;               // when the response ended or failed, same clock
};

// Per-request latencies as vLLM defines them, in seconds.
struct RequestTimings {
  double ttft = 0;            // first token chunk - send time
  double latency = 0;         // E2E: last token chunk - send time
  double tpot = 0;            // (latency - ttft) / (output_tokens - 1); 0 when <= 1 token
  std::vector<double> itls;   // gaps between successive token chunks
  int64_t output_tokens = 0;  // usage.completion_tokens, else the number of token chunks
};

// Zeros (and no ITLs) for a failed request or one without token chunks.
RequestTimings DeriveTimings(const RequestOutcome& outcome);

}  // namespace stride::server::loadgen
