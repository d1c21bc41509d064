// Tests engine/sampling/penalties.h: each processor against values computed by hand or in
// double, and the vLLM details (which tokens each penalty sees, min_tokens with ignore_eos).
#include "engine/sampling/penalties.h"

#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace stride::engine::sampling {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

TEST(LogitBiasTest, AddsBiasAndSkipsOutOfRangeIds) {
  std::vector<float> logits = {0.0f, 1.0f, 2.0f};
  const std::vector<std::pair<int32_t, float>> bias = {
      {0, 5.0f}, {2, -1.5f}, {3, 9.0f}, {-1, 9.0f}};
  ApplyLogitBias(bias, logits);
  EXPECT_EQ(logits, (std::vector<float>{5.0f, 1.0f, 0.5f}));
}

scheduler::Request MakeRequest(std::vector<int32_t> prompt, std::vector<int32_t> output) {
  scheduler::Request request;
  request.num_prompt_tokens = static_cast<int>(prompt.size());
  request.token_ids = std::move(prompt);
  request.token_ids.insert(request.token_ids.end(), output.begin(), output.end());
  return request;
}

TEST(MinTokensTest, MasksEosAndStopIdsUntilMinTokens) {
  scheduler::Request request = MakeRequest({1, 2}, {3});
  request.eos_token_ids = {5};
  request.sampling.stop_token_ids = {0, 42};  // 42 is outside the vocabulary
  request.sampling.min_tokens = 2;
  std::vector<float> logits(6, 1.0f);
  ApplyMinTokens(request, logits);
  EXPECT_EQ(logits, (std::vector<float>{kNegInf, 1.0f, 1.0f, 1.0f, 1.0f, kNegInf}));

  request.token_ids.push_back(4);  // two output tokens now: min_tokens reached
  std::vector<float> after(6, 1.0f);
  ApplyMinTokens(request, after);
  EXPECT_EQ(after, std::vector<float>(6, 1.0f));
}

// vLLM keeps EOS in all_stop_token_ids regardless of ignore_eos, so min_tokens masks it too.
TEST(MinTokensTest, MasksEosEvenWithIgnoreEos) {
  scheduler::Request request = MakeRequest({1}, {});
  request.eos_token_ids = {2};
  request.sampling.ignore_eos = true;
  request.sampling.min_tokens = 1;
  std::vector<float> logits(3, 0.0f);
  ApplyMinTokens(request, logits);
  EXPECT_EQ(logits[2], kNegInf);
  EXPECT_EQ(logits[0], 0.0f);
}

// Penalties in double, written from the vLLM formulas independently of the code under test.
std::vector<double> ReferencePenalties(const std::vector<float>& logits,
                                       const std::vector<int32_t>& prompt,
                                       const std::vector<int32_t>& output, double repetition,
                                       double frequency, double presence) {
  std::vector<double> x(logits.begin(), logits.end());
  std::set<int32_t> seen(prompt.begin(), prompt.end());
  seen.insert(output.begin(), output.end());
  for (int32_t id : seen) x[id] = x[id] > 0 ? x[id] / repetition : x[id] * repetition;
  std::map<int32_t, int> counts;
  for (int32_t id : output) ++counts[id];
  for (const auto& [id, count] : counts) x[id] -= frequency * count + presence;
  return x;
}

TEST(PenaltiesTest, RepetitionDividesPositiveAndMultipliesNegativeOnce) {
  const std::vector<float> logits = {2.0f, -2.0f, 3.0f, 0.0f, 1.0f};
  std::vector<float> x = logits;
  PenaltyScratch scratch;
  // Token 0 appears three times across prompt and output: penalized once, not three times.
  ApplyPenalties({.repetition = 2.0f}, std::vector<int32_t>{0, 1, 0}, std::vector<int32_t>{3, 0}, x,
                 scratch);
  EXPECT_EQ(x, (std::vector<float>{1.0f, -4.0f, 3.0f, 0.0f, 1.0f}));
}

TEST(PenaltiesTest, FrequencyAndPresenceSeeOnlyOutputTokens) {
  const std::vector<float> logits = {1.0f, 1.0f, 1.0f, 1.0f};
  std::vector<float> x = logits;
  PenaltyScratch scratch;
  ApplyPenalties({.frequency = 0.5f, .presence = 0.25f}, std::vector<int32_t>{0, 0, 0},
                 std::vector<int32_t>{1, 2, 1, 1}, x, scratch);
  EXPECT_EQ(x, (std::vector<float>{1.0f, 1.0f - 1.5f - 0.25f, 1.0f - 0.5f - 0.25f, 1.0f}));
}

TEST(PenaltiesTest, AllThreeMatchTheDoubleReferenceAndScratchIsReusable) {
  std::vector<float> logits;
  for (int i = 0; i < 64; ++i) logits.push_back(std::sin(0.7f * i) * 3.0f);
  const std::vector<int32_t> prompt = {3, 9, 9, 17, 40, 63, 1};
  const std::vector<int32_t> output = {9, 5, 5, 5, 22, 63, 100, -4};  // 100, -4: skipped
  PenaltyScratch scratch;
  for (int round = 0; round < 3; ++round) {  // leftover scratch state would change round 2+
    std::vector<float> x = logits;
    ApplyPenalties({.repetition = 1.3f, .frequency = 0.4f, .presence = 0.6f}, prompt, output, x,
                   scratch);
    const std::vector<int32_t> in_vocab_output = {9, 5, 5, 5, 22, 63};
    const std::vector<double> expected =
        ReferencePenalties(logits, prompt, in_vocab_output, 1.3, 0.4, 0.6);
    for (size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(x[i], expected[i], 1e-5) << i;
  }
}

TEST(PenaltiesTest, NeutralValuesChangeNothing) {
  std::vector<float> x = {1.0f, -1.0f};
  PenaltyScratch scratch;
  ApplyPenalties({}, std::vector<int32_t>{0, 1}, std::vector<int32_t>{0, 1}, x, scratch);
  EXPECT_EQ(x, (std::vector<float>{1.0f, -1.0f}));
  EXPECT_FALSE(Penalties{}.Active());
  EXPECT_TRUE(Penalties{.presence = 0.1f}.Active());
}

}  // namespace
}  // namespace stride::engine::sampling
