// Tests engine/model/model_config.h: every architecture, both RoPE spellings (transformers 4's
// rope_theta + rope_scaling and transformers 5's rope_parameters), defaults and every error.
#include "engine/model/model_config.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/unit/engine/model/safetensors_writer.h"

namespace stride::engine::model {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

json LlamaBase() {
  return json::parse(R"({
    "architectures": ["LlamaForCausalLM"], "model_type": "llama",
    "vocab_size": 1000, "hidden_size": 256, "intermediate_size": 512,
    "num_hidden_layers": 4, "num_attention_heads": 8, "num_key_value_heads": 2,
    "max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "hidden_act": "silu",
    "bos_token_id": 1, "eos_token_id": 2
  })");
}

ModelConfig ParseOk(const json& j) {
  absl::StatusOr<ModelConfig> config = ParseModelConfig(j.dump());
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : ModelConfig();
}

std::string ParseError(const json& j) {
  absl::StatusOr<ModelConfig> config = ParseModelConfig(j.dump());
  EXPECT_FALSE(config.ok()) << j.dump();
  if (config.ok()) return "";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(config.status().message());
}

TEST(ModelConfigTest, LlamaShapeAndDefaults) {
  ModelConfig c = ParseOk(LlamaBase());
  EXPECT_EQ(c.architecture, Architecture::kLlama);
  EXPECT_EQ(c.architecture_name, "LlamaForCausalLM");
  EXPECT_EQ(c.vocab_size, 1000);
  EXPECT_EQ(c.hidden_size, 256);
  EXPECT_EQ(c.intermediate_size, 512);
  EXPECT_EQ(c.num_layers, 4);
  EXPECT_EQ(c.num_heads, 8);
  EXPECT_EQ(c.num_kv_heads, 2);
  EXPECT_EQ(c.head_dim, 32);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeType::kDefault);
  EXPECT_EQ(c.max_position_embeddings, 4096);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_FALSE(c.o_bias);
  EXPECT_FALSE(c.mlp_bias);
  EXPECT_FALSE(c.qk_norm);
  EXPECT_THAT(c.layer_sliding_window, ElementsAre(0, 0, 0, 0));
  EXPECT_THAT(c.bos_token_ids, ElementsAre(1));
  EXPECT_THAT(c.eos_token_ids, ElementsAre(2));
  EXPECT_EQ(c.torch_dtype, "");
}

TEST(ModelConfigTest, KvHeadsDefaultToAttentionHeads) {
  json j = LlamaBase();
  j.erase("num_key_value_heads");
  EXPECT_EQ(ParseOk(j).num_kv_heads, 8);
  j["num_key_value_heads"] = nullptr;
  EXPECT_EQ(ParseOk(j).num_kv_heads, 8);
}

TEST(ModelConfigTest, LlamaAttentionAndMlpBias) {
  json j = LlamaBase();
  j["attention_bias"] = true;
  j["mlp_bias"] = true;
  j["tie_word_embeddings"] = true;
  ModelConfig c = ParseOk(j);
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_TRUE(c.o_bias);
  EXPECT_TRUE(c.mlp_bias);
  EXPECT_TRUE(c.tie_word_embeddings);
}

TEST(ModelConfigTest, ModelTypeUsedWhenArchitecturesAbsent) {
  json j = LlamaBase();
  j.erase("architectures");
  j["model_type"] = "qwen2";
  ModelConfig c = ParseOk(j);
  EXPECT_EQ(c.architecture, Architecture::kQwen2);
  EXPECT_EQ(c.architecture_name, "qwen2");
}

TEST(ModelConfigTest, MistralSlidingWindowOnEveryLayer) {
  json j = LlamaBase();
  j["architectures"] = {"MistralForCausalLM"};
  j["sliding_window"] = 4096;
  ModelConfig c = ParseOk(j);
  EXPECT_EQ(c.architecture, Architecture::kMistral);
  EXPECT_THAT(c.layer_sliding_window, ElementsAre(4096, 4096, 4096, 4096));
  EXPECT_FALSE(c.qkv_bias);
  j["sliding_window"] = nullptr;
  EXPECT_THAT(ParseOk(j).layer_sliding_window, ElementsAre(0, 0, 0, 0));
}

TEST(ModelConfigTest, Qwen2HasQkvBiasButNoOutputBias) {
  json j = LlamaBase();
  j["architectures"] = {"Qwen2ForCausalLM"};
  j["attention_bias"] = false;  // not read by Qwen2: its q/k/v biases are unconditional
  j["sliding_window"] = 1024;
  j["use_sliding_window"] = false;
  ModelConfig c = ParseOk(j);
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.o_bias);
  EXPECT_FALSE(c.qk_norm);
  EXPECT_THAT(c.layer_sliding_window, ElementsAre(0, 0, 0, 0));
}

TEST(ModelConfigTest, Qwen2SlidingWindowFromMaxWindowLayers) {
  json j = LlamaBase();
  j["architectures"] = {"Qwen2ForCausalLM"};
  j["use_sliding_window"] = true;
  j["sliding_window"] = 1024;
  j["max_window_layers"] = 2;
  EXPECT_THAT(ParseOk(j).layer_sliding_window, ElementsAre(0, 0, 1024, 1024));
}

TEST(ModelConfigTest, LayerTypesOverrideMaxWindowLayers) {
  json j = LlamaBase();
  j["architectures"] = {"Qwen3ForCausalLM"};
  j["use_sliding_window"] = true;
  j["sliding_window"] = 512;
  j["max_window_layers"] = 2;
  j["layer_types"] = {"sliding_attention", "full_attention", "sliding_attention", "full_attention"};
  EXPECT_THAT(ParseOk(j).layer_sliding_window, ElementsAre(512, 0, 512, 0));
  j["use_sliding_window"] = false;
  j["layer_types"] = {"full_attention", "full_attention", "full_attention", "full_attention"};
  EXPECT_THAT(ParseOk(j).layer_sliding_window, ElementsAre(0, 0, 0, 0));
}

TEST(ModelConfigTest, Qwen3ExplicitHeadDimAndQkNorm) {
  json j = LlamaBase();
  j["architectures"] = {"Qwen3ForCausalLM"};
  j["hidden_size"] = 1024;
  j["num_attention_heads"] = 16;
  j["num_key_value_heads"] = 8;
  j["head_dim"] = 128;  // not hidden / heads (64)
  ModelConfig c = ParseOk(j);
  EXPECT_EQ(c.architecture, Architecture::kQwen3);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_TRUE(c.qk_norm);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_FALSE(c.o_bias);
  j["attention_bias"] = true;
  c = ParseOk(j);
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_TRUE(c.o_bias);
  j["head_dim"] = nullptr;
  EXPECT_EQ(ParseOk(j).head_dim, 64);
}

TEST(ModelConfigTest, TokenIdsAsIntListOrNull) {
  json j = LlamaBase();
  j["eos_token_id"] = {128001, 128008, 128009};
  j["bos_token_id"] = nullptr;
  ModelConfig c = ParseOk(j);
  EXPECT_THAT(c.eos_token_ids, ElementsAre(128001, 128008, 128009));
  EXPECT_TRUE(c.bos_token_ids.empty());
}

TEST(ModelConfigTest, DtypeFromEitherSpelling) {
  json j = LlamaBase();
  j["torch_dtype"] = "float16";
  EXPECT_EQ(ParseOk(j).torch_dtype, "float16");
  j.erase("torch_dtype");
  j["dtype"] = "bfloat16";
  EXPECT_EQ(ParseOk(j).torch_dtype, "bfloat16");
}

// ---- RoPE, in both spellings ----

TEST(ModelConfigRopeTest, Llama3FromTransformers4AndTransformers5Agree) {
  json v4 = LlamaBase();
  v4["rope_theta"] = 500000.0;
  v4["rope_scaling"] = {{"rope_type", "llama3"},
                        {"factor", 8.0},
                        {"low_freq_factor", 1.0},
                        {"high_freq_factor", 4.0},
                        {"original_max_position_embeddings", 8192}};
  json v5 = LlamaBase();
  v5["rope_parameters"] = {{"rope_type", "llama3"},   {"rope_theta", 500000.0},
                           {"factor", 8.0},           {"low_freq_factor", 1.0},
                           {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
  for (const json& j : {v4, v5}) {
    ModelConfig c = ParseOk(j);
    EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
    EXPECT_EQ(c.rope_scaling.type, RopeType::kLlama3);
    EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 8.0);
    EXPECT_DOUBLE_EQ(c.rope_scaling.low_freq_factor, 1.0);
    EXPECT_DOUBLE_EQ(c.rope_scaling.high_freq_factor, 4.0);
    EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);
  }
}

TEST(ModelConfigRopeTest, Transformers5DefaultCarriesTheta) {
  json j = LlamaBase();
  j["rope_theta"] = 123.0;  // a stale top-level value loses to rope_parameters
  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1000000.0}};
  ModelConfig c = ParseOk(j);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1000000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeType::kDefault);
}

TEST(ModelConfigRopeTest, LegacyTypeKeyForLinear) {
  json j = LlamaBase();
  j["rope_theta"] = 20000.0;
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  ModelConfig c = ParseOk(j);
  EXPECT_DOUBLE_EQ(c.rope_theta, 20000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeType::kLinear);
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 2.0);
}

TEST(ModelConfigRopeTest, Dynamic) {
  json j = LlamaBase();
  j["rope_parameters"] = {{"rope_type", "dynamic"}, {"rope_theta", 10000.0}, {"factor", 2.0}};
  ModelConfig c = ParseOk(j);
  EXPECT_EQ(c.rope_scaling.type, RopeType::kDynamic);
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 2.0);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 0);
  j["rope_parameters"]["original_max_position_embeddings"] = 2048;
  EXPECT_EQ(ParseOk(j).rope_scaling.original_max_position_embeddings, 2048);
}

TEST(ModelConfigRopeTest, YarnDefaults) {
  json j = LlamaBase();
  j["architectures"] = {"Qwen3ForCausalLM"};
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  ModelConfig c = ParseOk(j);
  const RopeScaling& s = c.rope_scaling;
  EXPECT_EQ(s.type, RopeType::kYarn);
  EXPECT_DOUBLE_EQ(s.factor, 4.0);
  EXPECT_EQ(s.original_max_position_embeddings, 4096);  // max_position_embeddings
  EXPECT_DOUBLE_EQ(s.beta_fast, 32.0);
  EXPECT_DOUBLE_EQ(s.beta_slow, 1.0);
  EXPECT_FALSE(s.attention_factor.has_value());
  EXPECT_FALSE(s.mscale.has_value());
  EXPECT_FALSE(s.mscale_all_dim.has_value());
  EXPECT_TRUE(s.truncate);
}

TEST(ModelConfigRopeTest, YarnAllFields) {
  json j = LlamaBase();
  j["rope_parameters"] = {{"rope_type", "yarn"},     {"rope_theta", 1e6},
                          {"factor", 8.0},           {"original_max_position_embeddings", 1024},
                          {"beta_fast", 16.0},       {"beta_slow", 2.0},
                          {"attention_factor", 1.5}, {"mscale", 0.7},
                          {"mscale_all_dim", 0.8},   {"truncate", false}};
  ModelConfig c = ParseOk(j);
  const RopeScaling& s = c.rope_scaling;
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
  EXPECT_DOUBLE_EQ(s.factor, 8.0);
  EXPECT_EQ(s.original_max_position_embeddings, 1024);
  EXPECT_DOUBLE_EQ(s.beta_fast, 16.0);
  EXPECT_DOUBLE_EQ(s.beta_slow, 2.0);
  EXPECT_DOUBLE_EQ(s.attention_factor.value_or(0), 1.5);
  EXPECT_DOUBLE_EQ(s.mscale.value_or(0), 0.7);
  EXPECT_DOUBLE_EQ(s.mscale_all_dim.value_or(0), 0.8);
  EXPECT_FALSE(s.truncate);
}

TEST(ModelConfigRopeTest, YarnFactorDerivedFromContextLengths) {
  json j = LlamaBase();  // max_position_embeddings 4096
  j["rope_parameters"] = {{"rope_type", "yarn"}, {"original_max_position_embeddings", 1024}};
  EXPECT_DOUBLE_EQ(ParseOk(j).rope_scaling.factor, 4.0);
}

// ---- errors: each names the offending field or value ----

struct ErrorCase {
  const char* label;
  json patch;  // merged into LlamaBase(); a null value erases the key
  const char* expected;
};

class ModelConfigErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ModelConfigErrorTest, NamesTheProblem) {
  json j = LlamaBase();
  for (const auto& [key, value] : GetParam().patch.items()) {
    if (value.is_null()) {
      j.erase(key);
    } else {
      j[key] = value;
    }
  }
  EXPECT_THAT(ParseError(j), HasSubstr(GetParam().expected));
}

json Rope(json params) { return json{{"rope_parameters", std::move(params)}}; }

INSTANTIATE_TEST_SUITE_P(
    Errors, ModelConfigErrorTest,
    ::testing::Values(
        ErrorCase{
            "unknown_arch", {{"architectures", {"MixtralForCausalLM"}}}, "MixtralForCausalLM"},
        ErrorCase{"unknown_model_type",
                  {{"architectures", json::array()}, {"model_type", "gpt2"}},
                  "gpt2"},
        ErrorCase{
            "no_arch", {{"architectures", nullptr}, {"model_type", nullptr}}, "architectures"},
        ErrorCase{"gelu", {{"hidden_act", "gelu"}}, "'hidden_act' is 'gelu'"},
        ErrorCase{"missing_vocab", {{"vocab_size", nullptr}}, "'vocab_size' is missing"},
        ErrorCase{"missing_layers", {{"num_hidden_layers", nullptr}}, "num_hidden_layers"},
        ErrorCase{
            "missing_max_pos", {{"max_position_embeddings", nullptr}}, "max_position_embeddings"},
        ErrorCase{"zero_hidden", {{"hidden_size", 0}}, "'hidden_size' must be a positive"},
        ErrorCase{"negative_ffn", {{"intermediate_size", -5}}, "intermediate_size"},
        ErrorCase{"float_size", {{"hidden_size", 256.5}}, "'hidden_size' must be an integer"},
        ErrorCase{"string_size", {{"vocab_size", "1000"}}, "'vocab_size' must be an integer"},
        ErrorCase{"hidden_heads_mismatch", {{"hidden_size", 250}}, "not divisible"},
        ErrorCase{"kv_heads_mismatch", {{"num_key_value_heads", 3}}, "num_key_value_heads"},
        ErrorCase{"odd_head_dim", {{"head_dim", 33}}, "head_dim must be even"},
        ErrorCase{"zero_head_dim", {{"head_dim", 0}}, "'head_dim'"},
        ErrorCase{"bad_eps", {{"rms_norm_eps", "small"}}, "'rms_norm_eps' must be a number"},
        ErrorCase{"negative_eps", {{"rms_norm_eps", -1.0}}, "rms_norm_eps"},
        ErrorCase{"bad_eos", {{"eos_token_id", "</s>"}}, "eos_token_id"},
        ErrorCase{"negative_bos", {{"bos_token_id", -1}}, "bos_token_id"},
        ErrorCase{"bad_tie", {{"tie_word_embeddings", "yes"}}, "tie_word_embeddings"},
        ErrorCase{"bad_dtype", {{"torch_dtype", "int8"}}, "'torch_dtype' is 'int8'"},
        ErrorCase{"unknown_rope", Rope({{"rope_type", "longrope"}}), "longrope"},
        ErrorCase{
            "unknown_rope_v4", {{"rope_scaling", {{"type", "su"}}}}, "rope_scaling.type' is 'su'"},
        ErrorCase{"rope_not_object", {{"rope_scaling", 2.0}}, "rope_scaling"},
        ErrorCase{"linear_no_factor", Rope({{"rope_type", "linear"}}),
                  "'rope_parameters.factor' is missing"},
        ErrorCase{"negative_factor", Rope({{"rope_type", "linear"}, {"factor", -2.0}}),
                  "rope_parameters.factor"},
        ErrorCase{"llama3_no_low",
                  Rope({{"rope_type", "llama3"},
                        {"factor", 8.0},
                        {"high_freq_factor", 4.0},
                        {"original_max_position_embeddings", 8192}}),
                  "low_freq_factor"},
        ErrorCase{"llama3_no_original",
                  Rope({{"rope_type", "llama3"},
                        {"factor", 8.0},
                        {"low_freq_factor", 1.0},
                        {"high_freq_factor", 4.0}}),
                  "original_max_position_embeddings"},
        ErrorCase{"llama3_high_le_low",
                  Rope({{"rope_type", "llama3"},
                        {"factor", 8.0},
                        {"low_freq_factor", 4.0},
                        {"high_freq_factor", 4.0},
                        {"original_max_position_embeddings", 8192}}),
                  "high_freq_factor"},
        ErrorCase{"zero_theta", Rope({{"rope_type", "default"}, {"rope_theta", 0.0}}),
                  "rope_parameters.rope_theta"},
        ErrorCase{"per_layer_rope",
                  Rope({{"full_attention", {{"rope_type", "default"}}},
                        {"sliding_attention", {{"rope_type", "default"}}}}),
                  "per-layer-type"},
        ErrorCase{"layer_types_length", {{"layer_types", {"full_attention"}}}, "layer_types"},
        ErrorCase{"layer_types_value",
                  {{"architectures", {"MistralForCausalLM"}},
                   {"layer_types",
                    {"full_attention", "chunked_attention", "full_attention", "full_attention"}}},
                  "chunked_attention"},
        ErrorCase{"sliding_without_window",
                  {{"architectures", {"Qwen2ForCausalLM"}},
                   {"layer_types",
                    {"full_attention", "sliding_attention", "full_attention", "full_attention"}}},
                  "layer_types[1]"},
        ErrorCase{"negative_window",
                  {{"architectures", {"MistralForCausalLM"}}, {"sliding_window", -4}},
                  "sliding_window"}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return std::string(info.param.label); });

TEST(ModelConfigTest, NotJsonOrNotObject) {
  EXPECT_THAT(std::string(ParseModelConfig("{\"vocab_size\": ").status().message()),
              HasSubstr("not valid JSON"));
  EXPECT_THAT(std::string(ParseModelConfig("[1, 2]").status().message()), HasSubstr("JSON object"));
}

TEST(ModelConfigTest, LoadFromDirectoryOrFile) {
  testing::TempDir dir;
  testing::WriteFile(dir.path() / "config.json", LlamaBase().dump());
  absl::StatusOr<ModelConfig> from_dir = LoadModelConfig(dir.path().string());
  ASSERT_TRUE(from_dir.ok()) << from_dir.status();
  EXPECT_EQ(from_dir->hidden_size, 256);

  json other = LlamaBase();
  other["hidden_size"] = 512;
  testing::WriteFile(dir.path() / "other.json", other.dump());
  absl::StatusOr<ModelConfig> from_file = LoadModelConfig(dir.file("other.json"));
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->hidden_size, 512);
}

TEST(ModelConfigTest, LoadErrorsNameTheFile) {
  testing::TempDir dir;
  absl::StatusOr<ModelConfig> missing = LoadModelConfig(dir.path().string());
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("config.json"));

  json bad = LlamaBase();
  bad["hidden_act"] = "relu";
  testing::WriteFile(dir.path() / "config.json", bad.dump());
  absl::StatusOr<ModelConfig> invalid = LoadModelConfig(dir.path().string());
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(invalid.status().message()),
              HasSubstr((dir.path() / "config.json").string()));
  EXPECT_THAT(std::string(invalid.status().message()), HasSubstr("relu"));
}

}  // namespace
}  // namespace stride::engine::model
