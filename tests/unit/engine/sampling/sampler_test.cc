// Tests engine/sampling/sampler.h end to end: greedy, raw log-probs, determinism of the seeded
// stream, min_tokens, and for every knob a chi-square goodness-of-fit test of 20k sampled tokens
// against the reference distribution (reference_distribution.h). Each fit test also checks that
// the same draws reject the distribution without the knob, so it would catch a knob that does
// nothing. Seeds are fixed, so the tests are deterministic; rejection is at p < 1e-6.
#include "engine/sampling/sampler.h"

#include <boost/math/distributions/chi_squared.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/sampling/logprobs.h"
#include "gtest/gtest.h"
#include "tests/unit/engine/sampling/reference_distribution.h"

namespace stride::engine::sampling {
namespace {

using testing::ReferenceDistribution;

// Distinct, well-separated logits for a 12-token vocabulary.
const std::vector<float> kLogits = {1.0f,  0.5f, 2.0f,  -1.0f, 0.0f, 1.5f,
                                    -0.5f, 0.8f, -2.0f, 0.3f,  1.2f, -0.2f};

scheduler::Request MakeRequest(std::vector<int32_t> prompt = {0},
                               std::vector<int32_t> output = {}) {
  scheduler::Request request;
  request.num_prompt_tokens = static_cast<int>(prompt.size());
  request.token_ids = std::move(prompt);
  request.token_ids.insert(request.token_ids.end(), output.begin(), output.end());
  return request;
}

TEST(SamplerTest, GreedyPicksTheArgmaxOfProcessedLogits) {
  scheduler::Request request = MakeRequest();
  request.sampling.temperature = 0.0f;
  SamplerScratch scratch;
  EXPECT_EQ(SampleToken(kLogits, request, scratch).token_id, 2);
  request.sampling.logit_bias = {{8, 5.0f}};  // -2 + 5 = 3 beats 2
  EXPECT_EQ(SampleToken(kLogits, request, scratch).token_id, 8);
}

TEST(SamplerTest, GreedyTiesGoToTheLowestId) {
  const std::vector<float> logits = {0.0f, 4.0f, 1.0f, 4.0f, 4.0f};
  scheduler::Request request = MakeRequest();
  request.sampling.temperature = 0.0f;
  SamplerScratch scratch;
  EXPECT_EQ(SampleToken(logits, request, scratch).token_id, 1);
}

TEST(SamplerTest, TinyTemperatureIsGreedyAndIgnoresTruncation) {
  scheduler::Request request = MakeRequest();
  request.sampling.temperature = 5e-6f;  // below vLLM's 1e-5
  request.sampling.top_k = 1;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    request.seed = seed;
    SamplerScratch scratch;
    EXPECT_EQ(SampleToken(kLogits, request, scratch).token_id, 2);
  }
}

// Validation should refuse these; the sampler must still not abort on them.
TEST(SamplerTest, OutOfRangeKnobsDoNotAbort) {
  SamplerScratch scratch;
  for (float temperature : {-1.0f, std::numeric_limits<float>::quiet_NaN()}) {
    scheduler::Request request = MakeRequest();
    request.sampling.temperature = temperature;
    EXPECT_EQ(SampleToken(kLogits, request, scratch).token_id, 2) << temperature;  // greedy
  }
  scheduler::Request request = MakeRequest({0}, {2});
  request.sampling.min_p = 2.0f;  // drops every token: the processed argmax stands in
  EXPECT_EQ(SampleToken(kLogits, request, scratch).token_id, 2);
  request.sampling.min_p = 0.0f;
  // Tokens 0 and 2 (prompt and output) become 1 / 0 = 2 / 0 = +inf: the lower id wins.
  request.sampling.repetition_penalty = 0.0f;
  EXPECT_EQ(SampleToken(kLogits, request, scratch).token_id, 0);
  request.sampling.repetition_penalty = 1.0f;
  request.sampling.top_p = 0.0f;        // keeps only the most likely token
  request.sampling.logprobs = 1 << 20;  // clamped to the vocabulary
  const scheduler::TokenLogprob result = SampleToken(kLogits, request, scratch);
  EXPECT_EQ(result.token_id, 2);
  EXPECT_EQ(result.top.size(), kLogits.size());
}

TEST(SamplerTest, ReportsRawLogprobsWhateverTheKnobs) {
  std::vector<float> raw(kLogits.size());
  LogSoftmax(kLogits, raw);
  scheduler::Request request = MakeRequest({5, 2}, {2, 2});
  request.sampling.logprobs = 3;
  request.sampling.temperature = 0.3f;
  request.sampling.repetition_penalty = 1.7f;
  request.sampling.frequency_penalty = 0.9f;
  request.sampling.logit_bias = {{3, 4.0f}};
  request.sampling.top_k = 2;
  SamplerScratch scratch;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    request.seed = seed;
    const scheduler::TokenLogprob result = SampleToken(kLogits, request, scratch);
    EXPECT_FLOAT_EQ(result.logprob, raw[result.token_id]);
    ASSERT_EQ(result.top.size(), 3u);
    EXPECT_EQ(result.top[0].first, 2);
    EXPECT_EQ(result.top[1].first, 5);
    EXPECT_EQ(result.top[2].first, 10);
    EXPECT_FLOAT_EQ(result.top[0].second, raw[2]);
    EXPECT_FLOAT_EQ(result.top[2].second, raw[10]);
  }
}

TEST(SamplerTest, NoTopLogprobsWhenNotRequestedButTheTokenLogprobIsThere) {
  scheduler::Request request = MakeRequest();
  request.sampling.logprobs = -1;
  request.seed = 3;
  SamplerScratch scratch;
  const scheduler::TokenLogprob result = SampleToken(kLogits, request, scratch);
  EXPECT_TRUE(result.top.empty());
  std::vector<float> raw(kLogits.size());
  LogSoftmax(kLogits, raw);
  EXPECT_FLOAT_EQ(result.logprob, raw[result.token_id]);
  EXPECT_LT(result.logprob, 0.0f);
}

TEST(SamplerTest, SameSeedAndStepGiveTheSameToken) {
  scheduler::Request request = MakeRequest({1, 2, 3}, {4, 5});
  request.sampling.temperature = 1.5f;  // flat enough that tokens vary
  request.seed = 1234;
  SamplerScratch scratch;
  SamplerScratch other_scratch;
  const int32_t first = SampleToken(kLogits, request, scratch).token_id;
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(SampleToken(kLogits, request, i % 2 ? scratch : other_scratch).token_id, first);
  }
  // A copy of the request elsewhere (another batch slot) draws the same.
  const scheduler::Request copy = request;
  EXPECT_EQ(SampleToken(kLogits, copy, scratch).token_id, first);
}

// The stream of a seed over steps: two seeds agree on a step only by chance (~1/8 here).
TEST(SamplerTest, DifferentSeedsGiveDifferentStreams) {
  const std::vector<float> flat(16, 0.0f);
  SamplerScratch scratch;
  auto stream = [&](uint64_t seed) {
    scheduler::Request request = MakeRequest({0});
    request.seed = seed;
    std::vector<int32_t> tokens;
    for (int step = 0; step < 64; ++step) {
      tokens.push_back(SampleToken(flat, request, scratch).token_id);
      request.token_ids.push_back(tokens.back());
    }
    return tokens;
  };
  const std::vector<int32_t> a = stream(1);
  const std::vector<int32_t> b = stream(2);
  EXPECT_EQ(stream(1), a);
  int same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  EXPECT_LT(same, 16);  // expected 4
  std::set<int32_t> distinct(a.begin(), a.end());
  EXPECT_GT(distinct.size(), 8u);  // the stream moves across steps
}

TEST(SamplerTest, MinTokensMasksEosAndStopIdsThenReleasesThem) {
  std::vector<float> logits(8, 0.0f);
  logits[7] = 10.0f;  // EOS dominates
  logits[6] = 9.0f;   // a stop id, next best
  scheduler::Request request = MakeRequest({1});
  request.eos_token_ids = {7};
  request.sampling.stop_token_ids = {6};
  request.sampling.min_tokens = 3;
  request.sampling.temperature = 0.0f;
  SamplerScratch scratch;
  for (int step = 0; step < 3; ++step) {
    const int32_t token = SampleToken(logits, request, scratch).token_id;
    EXPECT_NE(token, 7) << step;
    EXPECT_NE(token, 6) << step;
    request.token_ids.push_back(token);
  }
  EXPECT_EQ(SampleToken(logits, request, scratch).token_id, 7);
  // Sampling, not only greedy, respects the mask.
  request.token_ids.resize(1);
  request.sampling.temperature = 1.0f;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    request.seed = seed;
    const int32_t token = SampleToken(logits, request, scratch).token_id;
    ASSERT_TRUE(token != 7 && token != 6) << seed;
  }
}

TEST(SamplerTest, EverythingMaskedFallsBackToTheRawArgmax) {
  const std::vector<float> logits = {0.0f, 2.0f, 1.0f};
  scheduler::Request request = MakeRequest();
  request.sampling.stop_token_ids = {0, 1, 2};
  request.sampling.min_tokens = 1;
  SamplerScratch scratch;
  EXPECT_EQ(SampleToken(logits, request, scratch).token_id, 1);
  request.sampling.temperature = 0.0f;
  EXPECT_EQ(SampleToken(logits, request, scratch).token_id, 1);
}

// ---- Goodness of fit ----------------------------------------------------------------------

constexpr int kDraws = 20000;
constexpr double kRejectBelow = 1e-6;

// Chi-square p-value of `counts` against `probs`. A token with probability 0 that was drawn
// gives p = 0; tokens with probability 0 and no draws are left out.
double ChiSquarePValue(const std::vector<int>& counts, const std::vector<double>& probs) {
  double statistic = 0.0;
  int cells = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (probs[i] == 0.0) {
      if (counts[i] > 0) return 0.0;
      continue;
    }
    const double expected = probs[i] * kDraws;
    statistic += (counts[i] - expected) * (counts[i] - expected) / expected;
    ++cells;
  }
  if (cells < 2) return 1.0;
  const boost::math::chi_squared distribution(cells - 1);
  return boost::math::cdf(boost::math::complement(distribution, statistic));
}

// Draws kDraws tokens: seeds 0..kDraws-1 when `vary_steps` is false (the request's history is
// fixed, which penalties need), else 100 seeds x 200 steps (appending a filler token each step).
std::vector<int> Draw(const scheduler::Request& base, bool vary_steps) {
  std::vector<int> counts(kLogits.size(), 0);
  SamplerScratch scratch;
  if (!vary_steps) {
    scheduler::Request request = base;
    for (int seed = 0; seed < kDraws; ++seed) {
      request.seed = static_cast<uint64_t>(seed) * 0x9E3779B97F4A7C15ull;
      ++counts[SampleToken(kLogits, request, scratch).token_id];
    }
    return counts;
  }
  for (int seed = 0; seed < 100; ++seed) {
    scheduler::Request request = base;
    request.seed = 1000 + seed;
    for (int step = 0; step < kDraws / 100; ++step) {
      ++counts[SampleToken(kLogits, request, scratch).token_id];
      request.token_ids.push_back(0);
    }
  }
  return counts;
}

// Sampled frequencies fit the knob's distribution and reject the one without the knob.
void ExpectFitsOnlyWithTheKnob(const scheduler::Request& with_knob,
                               const scheduler::Request& without_knob, bool vary_steps) {
  const std::vector<int> counts = Draw(with_knob, vary_steps);
  const std::vector<double> expected = ReferenceDistribution(kLogits, with_knob);
  const std::vector<double> unprocessed = ReferenceDistribution(kLogits, without_knob);
  EXPECT_GT(ChiSquarePValue(counts, expected), kRejectBelow);
  EXPECT_LT(ChiSquarePValue(counts, unprocessed), 1e-12);
}

TEST(SamplerFitTest, PlainSoftmax) {
  const scheduler::Request request = MakeRequest();
  const std::vector<int> counts = Draw(request, /*vary_steps=*/true);
  EXPECT_GT(ChiSquarePValue(counts, ReferenceDistribution(kLogits, request)), kRejectBelow);
  scheduler::Request hotter = request;
  hotter.sampling.temperature = 1.25f;
  EXPECT_LT(ChiSquarePValue(counts, ReferenceDistribution(kLogits, hotter)), 1e-12);
}

TEST(SamplerFitTest, Temperature) {
  scheduler::Request request = MakeRequest();
  request.sampling.temperature = 0.5f;
  ExpectFitsOnlyWithTheKnob(request, MakeRequest(), /*vary_steps=*/true);
  request.sampling.temperature = 2.0f;
  ExpectFitsOnlyWithTheKnob(request, MakeRequest(), /*vary_steps=*/true);
}

TEST(SamplerFitTest, TopK) {
  scheduler::Request request = MakeRequest();
  request.sampling.top_k = 4;
  ExpectFitsOnlyWithTheKnob(request, MakeRequest(), /*vary_steps=*/true);
}

TEST(SamplerFitTest, TopP) {
  scheduler::Request request = MakeRequest();
  request.sampling.top_p = 0.6f;
  ExpectFitsOnlyWithTheKnob(request, MakeRequest(), /*vary_steps=*/true);
}

TEST(SamplerFitTest, MinP) {
  scheduler::Request request = MakeRequest();
  request.sampling.min_p = 0.2f;
  ExpectFitsOnlyWithTheKnob(request, MakeRequest(), /*vary_steps=*/true);
}

// vLLM's order keeps tokens {0, 2, 5, 10} here; applying min_p last would also keep token 7.
TEST(SamplerFitTest, MinPThenTopKThenTopP) {
  scheduler::Request request = MakeRequest();
  request.sampling.temperature = 0.8f;
  request.sampling.min_p = 0.2f;
  request.sampling.top_k = 6;
  request.sampling.top_p = 0.9f;
  const std::vector<double> expected = ReferenceDistribution(kLogits, request);
  for (int32_t token = 0; token < static_cast<int32_t>(kLogits.size()); ++token) {
    const bool kept = token == 0 || token == 2 || token == 5 || token == 10;
    EXPECT_EQ(expected[token] > 0.0, kept) << token;
  }
  scheduler::Request temperature_only = MakeRequest();
  temperature_only.sampling.temperature = 0.8f;
  ExpectFitsOnlyWithTheKnob(request, temperature_only, /*vary_steps=*/true);
}

TEST(SamplerFitTest, RepetitionPenalty) {
  scheduler::Request request = MakeRequest({0, 3, 3}, {5});
  request.sampling.repetition_penalty = 2.0f;
  ExpectFitsOnlyWithTheKnob(request, MakeRequest({0, 3, 3}, {5}), /*vary_steps=*/false);
}

TEST(SamplerFitTest, PresencePenalty) {
  scheduler::Request request = MakeRequest({10}, {2, 2, 7});
  request.sampling.presence_penalty = 1.0f;
  ExpectFitsOnlyWithTheKnob(request, MakeRequest({10}, {2, 2, 7}), /*vary_steps=*/false);
}

TEST(SamplerFitTest, FrequencyPenalty) {
  scheduler::Request request = MakeRequest({10}, {2, 2, 7});
  request.sampling.frequency_penalty = 0.7f;
  ExpectFitsOnlyWithTheKnob(request, MakeRequest({10}, {2, 2, 7}), /*vary_steps=*/false);
  // Counting matters: the same draws also reject a presence-style (count-blind) penalty.
  scheduler::Request presence_like = MakeRequest({10}, {2, 2, 7});
  presence_like.sampling.presence_penalty = 0.7f;
  EXPECT_LT(ChiSquarePValue(Draw(request, false), ReferenceDistribution(kLogits, presence_like)),
            1e-12);
}

TEST(SamplerFitTest, LogitBias) {
  scheduler::Request request = MakeRequest();
  request.sampling.logit_bias = {{8, 3.0f}, {2, -2.0f}};
  ExpectFitsOnlyWithTheKnob(request, MakeRequest(), /*vary_steps=*/true);
}

TEST(SamplerFitTest, AllKnobsTogether) {
  scheduler::Request request = MakeRequest({0, 3}, {5, 5, 9});
  request.sampling.temperature = 0.9f;
  request.sampling.repetition_penalty = 1.3f;
  request.sampling.frequency_penalty = 0.2f;
  request.sampling.presence_penalty = 0.3f;
  request.sampling.logit_bias = {{4, 1.0f}};
  request.sampling.top_k = 8;
  request.sampling.top_p = 0.9f;
  request.sampling.min_p = 0.05f;
  ExpectFitsOnlyWithTheKnob(request, MakeRequest({0, 3}, {5, 5, 9}), /*vary_steps=*/false);
}

}  // namespace
}  // namespace stride::engine::sampling
