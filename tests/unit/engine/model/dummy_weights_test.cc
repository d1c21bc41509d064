// Tests LoadModelWeights(kDummy) and MakeDummyWeights (engine/model/dummy_weights.h):
// deterministic per seed, independent of threads, right shapes, plausible value scales.
#include "engine/model/dummy_weights.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "engine/model/weight_layout.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace stride::engine::model {
namespace {

using nlohmann::json;

ModelConfig TinyConfig(const std::string& architecture, bool tie = false) {
  json j = {{"architectures", {architecture}},
            {"vocab_size", 1000},
            {"hidden_size", 64},
            {"intermediate_size", 96},
            {"num_hidden_layers", 3},
            {"num_attention_heads", 4},
            {"num_key_value_heads", 2},
            {"max_position_embeddings", 512},
            {"tie_word_embeddings", tie}};
  absl::StatusOr<ModelConfig> config = ParseModelConfig(j.dump());
  EXPECT_TRUE(config.ok()) << config.status();
  return *config;
}

ModelWeights Dummy(const ModelConfig& config, uint64_t seed) {
  absl::StatusOr<ModelWeights> weights = LoadModelWeights(config, "", LoadFormat::kDummy, seed);
  EXPECT_TRUE(weights.ok()) << weights.status();
  return *std::move(weights);
}

// Every present view of `weights`, in a fixed order.
std::vector<const TensorView*> AllViews(const ModelWeights& w) {
  std::vector<const TensorView*> views = {&w.embed_tokens, &w.norm, &w.lm_head};
  for (const LayerWeights& l : w.layers) {
    for (const TensorView* v :
         {&l.input_layernorm, &l.q_proj, &l.k_proj, &l.v_proj, &l.q_bias, &l.k_bias, &l.v_bias,
          &l.q_norm, &l.k_norm, &l.o_proj, &l.o_bias, &l.post_attention_layernorm, &l.gate_proj,
          &l.up_proj, &l.down_proj, &l.gate_bias, &l.up_bias, &l.down_bias}) {
      if (v->present()) views.push_back(v);
    }
  }
  return views;
}

bool SameBytes(const TensorView& a, const TensorView& b) {
  return a.shape == b.shape && a.dtype == b.dtype &&
         std::memcmp(a.data, b.data, a.numel() * DTypeSize(a.dtype)) == 0;
}

struct Stats {
  double mean = 0, stddev = 0;
  bool finite = true;
  int64_t zeros = 0;
};

Stats StatsOf(const TensorView& view) {
  std::vector<float> values(view.numel());
  ToFloat32(view, values.data());
  Stats s;
  double sum = 0, sum_sq = 0;
  for (float x : values) {
    s.finite = s.finite && std::isfinite(x);
    s.zeros += x == 0.0f;
    sum += x;
    sum_sq += static_cast<double>(x) * x;
  }
  s.mean = sum / values.size();
  s.stddev = std::sqrt(sum_sq / values.size() - s.mean * s.mean);
  return s;
}

TEST(DummyWeightsTest, SameSeedSameBytesOtherSeedOtherBytes) {
  const ModelConfig config = TinyConfig("LlamaForCausalLM");
  const ModelWeights a = Dummy(config, 7), b = Dummy(config, 7), c = Dummy(config, 8);
  const auto views_a = AllViews(a), views_b = AllViews(b), views_c = AllViews(c);
  ASSERT_EQ(views_a.size(), views_b.size());
  ASSERT_EQ(views_a.size(), views_c.size());
  for (size_t i = 0; i < views_a.size(); ++i) {
    EXPECT_TRUE(SameBytes(*views_a[i], *views_b[i])) << "view " << i;
    EXPECT_FALSE(SameBytes(*views_a[i], *views_c[i])) << "view " << i;
  }
  // Two tensors of equal shape get different streams.
  EXPECT_FALSE(SameBytes(a.layers[0].q_proj, a.layers[1].q_proj));
  EXPECT_FALSE(SameBytes(a.layers[0].gate_proj, a.layers[0].up_proj));
}

TEST(DummyWeightsTest, IndependentOfThreadCount) {
  const ModelConfig config = TinyConfig("Qwen2ForCausalLM");
  const ModelWeights one = MakeDummyWeights(config, 3, 1);
  const ModelWeights four = MakeDummyWeights(config, 3, 4);
  const auto views_one = AllViews(one), views_four = AllViews(four);
  ASSERT_EQ(views_one.size(), views_four.size());
  for (size_t i = 0; i < views_one.size(); ++i) {
    EXPECT_TRUE(SameBytes(*views_one[i], *views_four[i])) << "view " << i;
  }
}

TEST(DummyWeightsTest, ShapesFollowTheConfig) {
  const ModelConfig config = TinyConfig("Qwen2ForCausalLM");
  const ModelWeights w = Dummy(config, 1);
  EXPECT_EQ(w.embed_tokens.shape, (std::vector<int64_t>{1000, 64}));
  EXPECT_EQ(w.lm_head.shape, (std::vector<int64_t>{1000, 64}));
  EXPECT_NE(w.lm_head.data, w.embed_tokens.data);
  EXPECT_EQ(w.norm.shape, (std::vector<int64_t>{64}));
  ASSERT_EQ(w.layers.size(), 3u);
  for (const LayerWeights& l : w.layers) {
    EXPECT_EQ(l.q_proj.shape, (std::vector<int64_t>{64, 64}));
    EXPECT_EQ(l.k_proj.shape, (std::vector<int64_t>{32, 64}));
    EXPECT_EQ(l.v_proj.shape, (std::vector<int64_t>{32, 64}));
    EXPECT_EQ(l.o_proj.shape, (std::vector<int64_t>{64, 64}));
    EXPECT_EQ(l.q_bias.shape, (std::vector<int64_t>{64}));
    EXPECT_EQ(l.k_bias.shape, (std::vector<int64_t>{32}));
    EXPECT_FALSE(l.o_bias.present());  // Qwen2: no o_proj bias
    EXPECT_FALSE(l.q_norm.present());
    EXPECT_EQ(l.gate_proj.shape, (std::vector<int64_t>{96, 64}));
    EXPECT_EQ(l.up_proj.shape, (std::vector<int64_t>{96, 64}));
    EXPECT_EQ(l.down_proj.shape, (std::vector<int64_t>{64, 96}));
    EXPECT_EQ(l.q_proj.dtype, DType::kBF16);
  }
}

TEST(DummyWeightsTest, Qwen3HasQkNormsAndTiedHeadSharesEmbedding) {
  const ModelWeights w = Dummy(TinyConfig("Qwen3ForCausalLM", /*tie=*/true), 1);
  EXPECT_EQ(w.layers[0].q_norm.shape, (std::vector<int64_t>{16}));
  EXPECT_EQ(w.layers[2].k_norm.shape, (std::vector<int64_t>{16}));
  EXPECT_FALSE(w.layers[0].q_bias.present());
  EXPECT_EQ(w.lm_head.data, w.embed_tokens.data);
}

TEST(DummyWeightsTest, ValuesLookLikeATrainedModel) {
  const ModelWeights w = Dummy(TinyConfig("Qwen2ForCausalLM"), 11);
  for (const TensorView* matrix :
       {&w.embed_tokens, &w.lm_head, &w.layers[1].q_proj, &w.layers[2].down_proj}) {
    const Stats s = StatsOf(*matrix);
    EXPECT_TRUE(s.finite);
    EXPECT_NEAR(s.mean, 0.0, 0.002);
    EXPECT_NEAR(s.stddev, 0.02, 0.002);
    EXPECT_LT(s.zeros, matrix->numel() / 100);
  }
  for (const TensorView* norm :
       {&w.norm, &w.layers[0].input_layernorm, &w.layers[0].post_attention_layernorm}) {
    const Stats s = StatsOf(*norm);
    EXPECT_TRUE(s.finite);
    EXPECT_NEAR(s.mean, 1.0, 0.02);
    EXPECT_GT(s.stddev, 0.005);  // not a constant
  }
  const Stats bias = StatsOf(w.layers[0].q_bias);
  EXPECT_TRUE(bias.finite);
  EXPECT_GT(bias.stddev, 0.003);
  EXPECT_LT(bias.stddev, 0.02);
}

TEST(DummyWeightsTest, GeneratorIsRoughlyStandardNormal) {
  const int n = 200000;
  double sum = 0, sum_sq = 0, sum_4 = 0;
  float max_abs = 0;
  for (int i = 0; i < n; ++i) {
    const double x = DummyNormal(0x1234, i);
    sum += x;
    sum_sq += x * x;
    sum_4 += x * x * x * x;
    max_abs = std::max(max_abs, static_cast<float>(std::fabs(x)));
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sum_sq / n, 1.0, 0.02);
  EXPECT_NEAR(sum_4 / n, 2.7, 0.1);  // Irwin-Hall(4) kurtosis; a normal has 3
  EXPECT_LE(max_abs, 2.0f * std::sqrt(3.0f) + 1e-5f);
}

TEST(DummyWeightsTest, ShippedTinyDemoConfigLoads) {
  absl::StatusOr<ModelConfig> config =
      LoadModelConfig(std::string(STRIDE_SOURCE_DIR) + "/configs/models/tiny-demo.json");
  ASSERT_TRUE(config.ok()) << config.status();
  const ModelWeights w = Dummy(*config, 0);
  EXPECT_EQ(w.embed_tokens.shape, (std::vector<int64_t>{128256, 64}));
  EXPECT_EQ(w.layers.size(), 2u);
  EXPECT_TRUE(StatsOf(w.lm_head).finite);
}

}  // namespace
}  // namespace stride::engine::model
