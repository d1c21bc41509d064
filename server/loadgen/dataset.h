// The requests a benchmark sends: prompts (token ids, or text from a file) and forced output
// lengths. Three sources:
//  * random: vLLM's random data set. Input and output lengths uniform integers in
//    [floor(len * (1 - r)), ceil(len * (1 + r))] (at least 1), token ids uniform in [0, vocab).
//  * sharegpt-like: lengths from log-normal fits that resemble ShareGPT as vLLM filters it
//    (4..1024 prompt tokens, prompt + output <= 2048; mean about 213 in / 204 out, median
//    140 / 129). A built-in distribution, not the real conversations; token ids are random.
//  * a JSONL file: one object per line with "prompt" (text) or "prompt_ids" (token ids), and
//    optionally "output_len" (else the default). Cycled when it has fewer lines than wanted.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace stride::server::loadgen {

struct BenchRequest {
  std::vector<int32_t> prompt_ids;  // the prompt as token ids; empty when prompt_text is used
  std::string prompt_text;
  int64_t input_len = 0;  // prompt tokens when known (token ids); 0 for text until usage says
  int output_len = 0;     // max_tokens, forced with ignore_eos
};

struct RandomDatasetOptions {
  int num_prompts = 1000;
  int input_len = 1024;
  int output_len = 128;
  double range_ratio = 0;  // in [0, 1)
  int vocab_size = 32000;
  uint64_t seed = 0;
};

absl::StatusOr<std::vector<BenchRequest>> RandomDataset(const RandomDatasetOptions& options);

absl::StatusOr<std::vector<BenchRequest>> ShareGptLikeDataset(int num_prompts, int vocab_size,
                                                              uint64_t seed);

// Parses JSONL text (see above); `source` names it in error messages.
absl::StatusOr<std::vector<BenchRequest>> ParseJsonlDataset(const std::string& text,
                                                            const std::string& source,
                                                            int num_prompts,
                                                            int default_output_len);
absl::StatusOr<std::vector<BenchRequest>> LoadJsonlDataset(const std::string& path, int num_prompts,
                                                           int default_output_len);

}  // namespace stride::server::loadgen
