// The CPU engine against HuggingFace transformers (float32 goldens of tiny random checkpoints of
// every supported architecture): prompt log-probs, greedy continuations, top-5 log-probs.
#include <cmath>

#include "gtest/gtest.h"
#include "tests/integration/golden_fixture.h"

namespace stride::testing {
namespace {

constexpr double kLogprobTolerance = 1e-3;
// Below this top-2 gap the golden's own greedy choice is a coin flip at fp32 precision.
constexpr double kTieGap = 1e-4;

class HfGoldensTest : public ::testing::TestWithParam<std::string> {};

void ExpectMatchesGolden(const GoldenPrompt& golden, const Generation& got,
                         const std::string& what) {
  const size_t n = golden.prompt_token_ids.size();
  ASSERT_EQ(got.prompt_logprobs.size(), n - 1) << what;
  for (size_t i = 1; i < n; ++i) {
    EXPECT_EQ(got.prompt_logprobs[i - 1].token_id, golden.prompt_token_ids[i]) << what;
    EXPECT_NEAR(got.prompt_logprobs[i - 1].logprob, golden.prompt_logprobs[i], kLogprobTolerance)
        << what << " prompt position " << i;
  }
  ASSERT_EQ(got.token_ids.size(), golden.greedy.size()) << what;
  ASSERT_EQ(got.logprobs.size(), golden.greedy.size()) << what;
  EXPECT_EQ(got.finish_reason, engine::FinishReason::kLength) << what;
  for (size_t s = 0; s < golden.greedy.size(); ++s) {
    const GreedyStep& step = golden.greedy[s];
    ASSERT_EQ(got.token_ids[s], step.token_id) << what << " greedy step " << s;
    EXPECT_NEAR(got.logprobs[s].logprob, step.logprob, kLogprobTolerance) << what << " step " << s;
    ASSERT_EQ(got.logprobs[s].top.size(), step.top.size()) << what;
    for (size_t k = 0; k < step.top.size(); ++k) {
      EXPECT_NEAR(got.logprobs[s].top[k].second, step.top[k].second, kLogprobTolerance)
          << what << " step " << s << " top " << k;
      // Ids must agree unless two neighbours are (nearly) tied.
      bool tied = (k > 0 && step.top[k - 1].second - step.top[k].second < kTieGap) ||
                  (k + 1 < step.top.size() && step.top[k].second - step.top[k + 1].second < kTieGap);
      if (!tied) {
        EXPECT_EQ(got.logprobs[s].top[k].first, step.top[k].first) << what << " step " << s;
      }
    }
    if (step.top2_gap < kTieGap) break;  // after a tie the continuations may legitimately part
  }
}

TEST_P(HfGoldensTest, EachPromptAloneMatchesTransformers) {
  std::vector<GoldenPrompt> goldens = LoadGoldens(GetParam());
  ASSERT_EQ(goldens.size(), 10u);
  engine::EngineOptions options;
  options.model = FixtureDir(GetParam());
  options.max_num_seqs = 4;
  auto loaded = engine::CreateEngine(options);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  for (const GoldenPrompt& golden : goldens) {
    std::vector<Generation> got = RunAll(*loaded->engine, {GreedyRequest(golden)});
    ExpectMatchesGolden(golden, got[0],
                        GetParam() + " prompt length " + std::to_string(golden.prompt_token_ids.size()));
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, HfGoldensTest,
                         ::testing::Values("llama-gqa-llama3rope", "mistral-sliding",
                                           "qwen2-bias-tied", "qwen3-qknorm"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) if (c == '-') c = '_';
                           return name;
                         });

}  // namespace
}  // namespace stride::testing
