#include "tests/integration/golden_fixture.h"

#include <fstream>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace stride::testing {

std::string FixtureDir(const std::string& name) {
  return std::string(STRIDE_SOURCE_DIR) + "/tests/fixtures/models/" + name;
}

std::vector<GoldenPrompt> LoadGoldens(const std::string& name) {
  std::ifstream in(FixtureDir(name) + "/goldens.json");
  nlohmann::json j = nlohmann::json::parse(in);
  std::vector<GoldenPrompt> out;
  for (const auto& p : j["prompts"]) {
    GoldenPrompt g;
    g.prompt_token_ids = p["prompt_token_ids"].get<std::vector<int32_t>>();
    for (const auto& lp : p["prompt_logprobs"]) g.prompt_logprobs.push_back(lp.is_null() ? 0 : lp.get<double>());
    for (const auto& s : p["greedy"]) {
      GreedyStep step{s["token_id"].get<int32_t>(), s["logprob"].get<double>(), {},
                      s["top2_gap"].get<double>()};
      for (const auto& t : s["top"]) step.top.emplace_back(t[0].get<int32_t>(), t[1].get<double>());
      g.greedy.push_back(std::move(step));
    }
    out.push_back(std::move(g));
  }
  return out;
}

engine::GenerateRequest GreedyRequest(const GoldenPrompt& golden) {
  engine::GenerateRequest r;
  r.prompt_token_ids = golden.prompt_token_ids;
  r.sampling.temperature = 0;
  r.sampling.max_tokens = static_cast<int>(golden.greedy.size());
  r.sampling.ignore_eos = true;
  r.sampling.logprobs = 5;
  r.sampling.prompt_logprobs = 0;
  return r;
}

std::vector<Generation> RunAll(engine::Engine& engine,
                               const std::vector<engine::GenerateRequest>& requests) {
  std::vector<std::shared_ptr<engine::RequestStream>> streams;
  for (const auto& r : requests) {
    auto stream = engine.Submit(r);
    EXPECT_TRUE(stream.ok()) << stream.status();
    streams.push_back(stream.ok() ? *stream : nullptr);
  }
  std::vector<Generation> out(requests.size());
  for (size_t i = 0; i < streams.size(); ++i) {
    if (!streams[i]) continue;
    engine::RequestOutput delta;
    while (streams[i]->Next(&delta)) {
      EXPECT_TRUE(delta.status.ok()) << delta.status;
      Generation& g = out[i];
      g.token_ids.insert(g.token_ids.end(), delta.token_ids.begin(), delta.token_ids.end());
      g.logprobs.insert(g.logprobs.end(), delta.logprobs.begin(), delta.logprobs.end());
      g.prompt_logprobs.insert(g.prompt_logprobs.end(), delta.prompt_logprobs.begin(),
                               delta.prompt_logprobs.end());
      if (delta.finish_reason != engine::FinishReason::kNone) g.finish_reason = delta.finish_reason;
    }
  }
  return out;
}

}  // namespace stride::testing
