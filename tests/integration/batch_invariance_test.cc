// Batch invariance (ARCHITECTURE.md, Engine core): every golden prompt submitted together, at
// token budgets of 16, 64 and 2048 and under a KV pool small enough to force preemptions, gives
// the same greedy tokens and log-probs as each prompt alone, and as transformers.
#include <chrono>
#include <thread>

#include "gtest/gtest.h"
#include "tests/integration/golden_fixture.h"

namespace stride::testing {
namespace {

constexpr double kBatchTolerance = 1e-4;

struct Setting {
  const char* name;
  int max_num_batched_tokens;
  int num_kv_blocks;  // 0: plenty
};

class BatchInvarianceTest : public ::testing::TestWithParam<std::string> {};

engine::EngineStats WaitIdle(engine::Engine& engine) {
  for (int i = 0; i < 200; ++i) {
    engine::EngineStats s = engine.stats();
    if (s.num_running == 0 && s.num_waiting == 0) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return engine.stats();
}

std::vector<Generation> RunSetting(const std::string& fixture, const Setting& setting,
                            const std::vector<engine::GenerateRequest>& requests,
                            engine::EngineStats* stats) {
  engine::EngineOptions options;
  options.model = FixtureDir(fixture);
  options.max_num_batched_tokens = setting.max_num_batched_tokens;
  options.num_kv_blocks = setting.num_kv_blocks;
  options.max_model_len = 1024;
  options.max_num_seqs = 16;  // also keeps the KV pool (sized for max_num_seqs) small
  auto loaded = engine::CreateEngine(options);
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  if (!loaded.ok()) return {};
  const int free_at_start = loaded->engine->stats().num_free_kv_blocks;
  std::vector<Generation> out = RunAll(*loaded->engine, requests);
  *stats = WaitIdle(*loaded->engine);
  EXPECT_EQ(stats->num_free_kv_blocks, free_at_start) << setting.name << ": blocks leaked";
  return out;
}

void ExpectSame(const Generation& a, const Generation& b, const std::string& what) {
  ASSERT_EQ(a.token_ids, b.token_ids) << what;
  ASSERT_EQ(a.logprobs.size(), b.logprobs.size()) << what;
  for (size_t i = 0; i < a.logprobs.size(); ++i) {
    EXPECT_NEAR(a.logprobs[i].logprob, b.logprobs[i].logprob, kBatchTolerance) << what << " " << i;
  }
  ASSERT_EQ(a.prompt_logprobs.size(), b.prompt_logprobs.size()) << what;
  for (size_t i = 0; i < a.prompt_logprobs.size(); ++i) {
    EXPECT_NEAR(a.prompt_logprobs[i].logprob, b.prompt_logprobs[i].logprob, kBatchTolerance)
        << what << " prompt " << i;
  }
}

TEST_P(BatchInvarianceTest, TogetherChunkedAndPreemptedEqualsAlone) {
  const std::string fixture = GetParam();
  std::vector<GoldenPrompt> goldens = LoadGoldens(fixture);
  std::vector<engine::GenerateRequest> requests;
  for (const auto& g : goldens) requests.push_back(GreedyRequest(g));

  // Reference: each prompt alone with a budget that takes it whole.
  std::vector<Generation> alone;
  engine::EngineStats stats;
  for (const auto& r : requests) {
    alone.push_back(RunSetting(fixture, {"alone", 2048, 0}, {r}, &stats)[0]);
  }
  for (size_t i = 0; i < goldens.size(); ++i) {
    // Anchor to transformers too (the full comparison is in hf_goldens_test).
    ASSERT_EQ(alone[i].token_ids.front(), goldens[i].greedy.front().token_id) << fixture;
  }
  // 60 blocks of 16 tokens cannot hold the ten requests (~1,300 tokens) at once. Mistral's
  // 32-token window frees all but ~3 blocks of each request, so its pool must be smaller still.
  const int tiny_pool = fixture == "mistral-sliding" ? 16 : 60;
  const Setting settings[] = {{"budget 16", 16, 0},
                              {"budget 64", 64, 0},
                              {"budget 2048", 2048, 0},
                              {"tiny KV pool", 64, tiny_pool}};
  for (const Setting& setting : settings) {
    std::vector<Generation> together = RunSetting(fixture, setting, requests, &stats);
    ASSERT_EQ(together.size(), requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
      ExpectSame(together[i], alone[i],
                 fixture + " " + setting.name + " prompt " + std::to_string(i));
    }
    if (setting.num_kv_blocks > 0) {
      EXPECT_GT(stats.num_preemptions, 0) << fixture << ": the small pool forced no preemption";
    }
  }
}

TEST_P(BatchInvarianceTest, SeededSamplingDoesNotDependOnTheBatch) {
  const std::string fixture = GetParam();
  std::vector<GoldenPrompt> goldens = LoadGoldens(fixture);
  std::vector<engine::GenerateRequest> requests;
  for (size_t i = 0; i < goldens.size(); ++i) {
    engine::GenerateRequest r = GreedyRequest(goldens[i]);
    r.sampling.temperature = 0.9f;
    r.sampling.top_p = 0.95f;
    r.sampling.top_k = 50;
    r.sampling.seed = 1000 + i;
    requests.push_back(r);
  }
  engine::EngineStats stats;
  std::vector<Generation> together = RunSetting(fixture, {"budget 64", 64, 0}, requests, &stats);
  ASSERT_EQ(together.size(), requests.size());
  int differs_from_greedy = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    Generation alone = RunSetting(fixture, {"alone", 2048, 0}, {requests[i]}, &stats)[0];
    ExpectSame(together[i], alone, fixture + " seeded prompt " + std::to_string(i));
    for (size_t s = 0; s < alone.token_ids.size(); ++s) {
      if (alone.token_ids[s] != goldens[i].greedy[s].token_id) {
        ++differs_from_greedy;
        break;
      }
    }
  }
  // The draw really is random: most sampled continuations leave the greedy path.
  EXPECT_GE(differs_from_greedy, 5) << fixture;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, BatchInvarianceTest,
                         ::testing::Values("llama-gqa-llama3rope", "mistral-sliding",
                                           "qwen2-bias-tied", "qwen3-qknorm"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) if (c == '-') c = '_';
                           return name;
                         });

}  // namespace
}  // namespace stride::testing
