// RoPE frequencies against transformers' own (tests/fixtures/rope_goldens.json, made by
// tests/fixtures/make_goldens.py from transformers.modeling_rope_utils).
#include "engine/model/rope_frequencies.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "engine/model/model_config.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace stride::engine::model {
namespace {

nlohmann::json LoadGoldens() {
  std::ifstream in(STRIDE_SOURCE_DIR "/tests/fixtures/rope_goldens.json");
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

void ExpectClose(const std::vector<float>& actual, const nlohmann::json& expected,
                 const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i) {
    double e = expected[i].get<double>();
    // A few float32 ulps: transformers runs llama3's smoothing in float32, we in double.
    EXPECT_NEAR(actual[i], e, 5e-7 * std::abs(e)) << what << " index " << i;
  }
}

TEST(RopeFrequenciesTest, MatchesTransformersForEveryRopeType) {
  nlohmann::json goldens = LoadGoldens();
  ASSERT_GE(goldens.size(), 12u);
  for (const auto& entry : goldens) {
    std::string what = entry["name"].get<std::string>() + " d=" +
                       std::to_string(entry["head_dim"].get<int>());
    absl::StatusOr<ModelConfig> config = ParseModelConfig(entry["config"].dump());
    ASSERT_TRUE(config.ok()) << what << ": " << config.status();
    RopeFrequencies freqs = ComputeRopeFrequencies(*config);
    ExpectClose(freqs.inv_freq, entry["inv_freq"], what);
    EXPECT_NEAR(freqs.attention_scaling, entry["attention_scaling"].get<double>(), 1e-6) << what;
    if (entry.contains("dynamic_seq_len")) {
      RopeFrequencies longer = ComputeRopeFrequencies(*config, entry["dynamic_seq_len"].get<int>());
      ExpectClose(longer.inv_freq, entry["dynamic_inv_freq"], what + " (long)");
      EXPECT_LT(longer.inv_freq.back(), freqs.inv_freq.back()) << what;
    }
  }
}

TEST(RopeFrequenciesTest, FixtureModelsMatchTheirRotaryEmbedding) {
  for (const char* name : {"llama-gqa-llama3rope", "mistral-sliding", "qwen2-bias-tied",
                           "qwen3-qknorm"}) {
    std::string dir = std::string(STRIDE_SOURCE_DIR) + "/tests/fixtures/models/" + name;
    absl::StatusOr<ModelConfig> config = LoadModelConfig(dir);
    ASSERT_TRUE(config.ok()) << name << ": " << config.status();
    std::ifstream in(dir + "/goldens.json");
    nlohmann::json goldens = nlohmann::json::parse(in);
    RopeFrequencies freqs = ComputeRopeFrequencies(*config);
    ExpectClose(freqs.inv_freq, goldens["inv_freq"], name);
    EXPECT_NEAR(freqs.attention_scaling, goldens["attention_scaling"].get<double>(), 1e-6) << name;
  }
}

}  // namespace
}  // namespace stride::engine::model
