// Loads a HuggingFace fixture's goldens (tests/fixtures/models/<name>/goldens.json, written by
// tests/fixtures/make_goldens.py) and runs requests through a CPU engine for comparison.
#pragma once

#include <string>
#include <vector>

#include "engine/engine_factory.h"
#include "engine/request.h"

namespace stride::testing {

struct GreedyStep {
  int32_t token_id;
  double logprob;
  std::vector<std::pair<int32_t, double>> top;
  double top2_gap;
};

struct GoldenPrompt {
  std::vector<int32_t> prompt_token_ids;
  std::vector<double> prompt_logprobs;  // index i: log p(token i | tokens < i); [0] unused
  std::vector<GreedyStep> greedy;
};

std::string FixtureDir(const std::string& name);
std::vector<GoldenPrompt> LoadGoldens(const std::string& name);

// The result of one request, sequence 0.
struct Generation {
  std::vector<int32_t> token_ids;
  std::vector<engine::TokenLogprob> logprobs;
  std::vector<engine::TokenLogprob> prompt_logprobs;  // positions 1..
  engine::FinishReason finish_reason = engine::FinishReason::kNone;
};

// Greedy request for a golden prompt: ignore_eos, top-5 log-probs, prompt log-probs.
engine::GenerateRequest GreedyRequest(const GoldenPrompt& golden);

// Submits every request at once and waits for all of them.
std::vector<Generation> RunAll(engine::Engine& engine,
                               const std::vector<engine::GenerateRequest>& requests);

}  // namespace stride::testing
