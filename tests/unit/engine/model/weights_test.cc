// Tests LoadModelWeights (engine/model/weights.h) from safetensors checkpoints written by the test
// itself: single file and sharded, every architecture's optional tensors, and each error naming
// the file and the tensor.
#include "engine/model/weights.h"

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "engine/model/weight_storage.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/unit/engine/model/safetensors_writer.h"

namespace stride::engine::model {
namespace {

using nlohmann::json;
using testing::BuildSafetensors;
using ::testing::HasSubstr;
using testing::TempDir;
using testing::TestTensor;
using testing::WriteFile;

json TinyConfigJson(const std::string& architecture) {
  return json{{"architectures", {architecture}},
              {"vocab_size", 32},
              {"hidden_size", 16},
              {"intermediate_size", 24},
              {"num_hidden_layers", 2},
              {"num_attention_heads", 4},
              {"num_key_value_heads", 2},
              {"max_position_embeddings", 128},
              {"tie_word_embeddings", false}};
}

ModelConfig Parse(const json& j) {
  absl::StatusOr<ModelConfig> config = ParseModelConfig(j.dump());
  EXPECT_TRUE(config.ok()) << config.status();
  return *config;
}

// What the test expects the loader to ask for: HF name, shape, and where the view must land.
struct Spec {
  std::string name;
  std::vector<int64_t> shape;
  std::function<const TensorView&(const ModelWeights&)> view;
};

struct Options {
  bool qkv_bias = false, o_bias = false, mlp_bias = false, qk_norm = false, lm_head = true;
  int64_t head_dim = 4;
};

std::vector<Spec> ExpectedSpecs(const Options& o) {
  const int64_t h = 16, f = 24, v = 32, q = 4 * o.head_dim, kv = 2 * o.head_dim;
  std::vector<Spec> specs = {
      {"model.embed_tokens.weight",
       {v, h},
       [](const ModelWeights& w) -> const TensorView& { return w.embed_tokens; }},
      {"model.norm.weight", {h}, [](const ModelWeights& w) -> const TensorView& { return w.norm; }},
  };
  if (o.lm_head) {
    specs.push_back({"lm_head.weight", {v, h}, [](const ModelWeights& w) -> const TensorView& {
                       return w.lm_head;
                     }});
  }
  for (int i = 0; i < 2; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    auto add = [&](const std::string& suffix, std::vector<int64_t> shape,
                   TensorView LayerWeights::*member) {
      specs.push_back(
          {p + suffix, std::move(shape), [i, member](const ModelWeights& w) -> const TensorView& {
             return w.layers[i].*member;
           }});
    };
    add("input_layernorm.weight", {h}, &LayerWeights::input_layernorm);
    add("post_attention_layernorm.weight", {h}, &LayerWeights::post_attention_layernorm);
    add("self_attn.q_proj.weight", {q, h}, &LayerWeights::q_proj);
    add("self_attn.k_proj.weight", {kv, h}, &LayerWeights::k_proj);
    add("self_attn.v_proj.weight", {kv, h}, &LayerWeights::v_proj);
    add("self_attn.o_proj.weight", {h, q}, &LayerWeights::o_proj);
    add("mlp.gate_proj.weight", {f, h}, &LayerWeights::gate_proj);
    add("mlp.up_proj.weight", {f, h}, &LayerWeights::up_proj);
    add("mlp.down_proj.weight", {h, f}, &LayerWeights::down_proj);
    if (o.qkv_bias) {
      add("self_attn.q_proj.bias", {q}, &LayerWeights::q_bias);
      add("self_attn.k_proj.bias", {kv}, &LayerWeights::k_bias);
      add("self_attn.v_proj.bias", {kv}, &LayerWeights::v_bias);
    }
    if (o.o_bias) add("self_attn.o_proj.bias", {h}, &LayerWeights::o_bias);
    if (o.mlp_bias) {
      add("mlp.gate_proj.bias", {f}, &LayerWeights::gate_bias);
      add("mlp.up_proj.bias", {f}, &LayerWeights::up_bias);
      add("mlp.down_proj.bias", {h}, &LayerWeights::down_bias);
    }
    if (o.qk_norm) {
      add("self_attn.q_norm.weight", {o.head_dim}, &LayerWeights::q_norm);
      add("self_attn.k_norm.weight", {o.head_dim}, &LayerWeights::k_norm);
    }
  }
  return specs;
}

int64_t Numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// Distinct per tensor and element, and exact in bf16.
float ValueFor(size_t tensor, int64_t element) {
  return static_cast<float>(static_cast<int64_t>((tensor * 7 + element) % 13) - 6) * 0.125f;
}

TestTensor Encode(const Spec& spec, size_t index, const std::string& dtype) {
  std::string bytes;
  for (int64_t j = 0; j < Numel(spec.shape); ++j) {
    const float value = ValueFor(index, j);
    uint32_t bits;
    std::memcpy(&bits, &value, 4);
    if (dtype == "BF16") {
      const uint16_t top = static_cast<uint16_t>(bits >> 16);  // exact: low bits are zero
      bytes.append(reinterpret_cast<const char*>(&top), 2);
    } else {
      bytes.append(reinterpret_cast<const char*>(&bits), 4);
    }
  }
  return TestTensor{spec.name, dtype, spec.shape, bytes};
}

std::vector<TestTensor> EncodeAll(const std::vector<Spec>& specs, const std::string& dtype) {
  std::vector<TestTensor> tensors;
  for (size_t k = 0; k < specs.size(); ++k) tensors.push_back(Encode(specs[k], k, dtype));
  return tensors;
}

void ExpectLoaded(const ModelWeights& weights, const std::vector<Spec>& specs, DType dtype) {
  for (size_t k = 0; k < specs.size(); ++k) {
    const TensorView& view = specs[k].view(weights);
    ASSERT_TRUE(view.present()) << specs[k].name;
    EXPECT_EQ(view.shape, specs[k].shape) << specs[k].name;
    EXPECT_EQ(view.dtype, dtype) << specs[k].name;
    std::vector<float> values(view.numel());
    ToFloat32(view, values.data());
    for (int64_t j = 0; j < view.numel(); ++j) {
      ASSERT_EQ(values[j], ValueFor(k, j)) << specs[k].name << " element " << j;
    }
  }
}

absl::StatusOr<ModelWeights> Load(const ModelConfig& config, const TempDir& dir) {
  return LoadModelWeights(config, dir.path().string(), LoadFormat::kAuto);
}

std::string ErrorOf(const absl::StatusOr<ModelWeights>& weights) {
  EXPECT_FALSE(weights.ok());
  return weights.ok() ? "" : std::string(weights.status().message());
}

TEST(LoadModelWeightsTest, SingleFileBFloat16Llama) {
  TempDir dir;
  const std::vector<Spec> specs = ExpectedSpecs({});
  std::vector<TestTensor> tensors = EncodeAll(specs, "BF16");
  tensors.push_back({"model.rotary_emb.inv_freq", "I64", {2}, std::string(16, '\0')});  // ignored
  WriteFile(dir.path() / "model.safetensors", BuildSafetensors(tensors));
  ModelConfig config = Parse(TinyConfigJson("LlamaForCausalLM"));
  absl::StatusOr<ModelWeights> weights = Load(config, dir);
  ASSERT_TRUE(weights.ok()) << weights.status();
  ASSERT_EQ(weights->layers.size(), 2u);
  ExpectLoaded(*weights, specs, DType::kBF16);
  EXPECT_FALSE(weights->layers[0].q_bias.present());
  EXPECT_FALSE(weights->layers[1].q_norm.present());
  EXPECT_FALSE(weights->layers[1].down_bias.present());
  EXPECT_NE(weights->lm_head.data, weights->embed_tokens.data);
  EXPECT_EQ(weights->storage->files().size(), 1u);
}

TEST(LoadModelWeightsTest, PathMayBeTheConfigFile) {
  TempDir dir;
  const std::vector<Spec> specs = ExpectedSpecs({});
  WriteFile(dir.path() / "model.safetensors", BuildSafetensors(EncodeAll(specs, "F32")));
  WriteFile(dir.path() / "config.json", TinyConfigJson("LlamaForCausalLM").dump());
  ModelConfig config = Parse(TinyConfigJson("LlamaForCausalLM"));
  absl::StatusOr<ModelWeights> weights =
      LoadModelWeights(config, dir.file("config.json"), LoadFormat::kAuto);
  ASSERT_TRUE(weights.ok()) << weights.status();
  ExpectLoaded(*weights, specs, DType::kF32);
}

TEST(LoadModelWeightsTest, ShardedWithIndexMapsEachFileOnce) {
  TempDir dir;
  const std::vector<Spec> specs = ExpectedSpecs({});
  const std::vector<TestTensor> tensors = EncodeAll(specs, "BF16");
  std::vector<TestTensor> shard[2];
  json weight_map = json::object();
  for (size_t k = 0; k < tensors.size(); ++k) {
    const int s = static_cast<int>(k % 2);
    shard[s].push_back(tensors[k]);
    weight_map[tensors[k].name] = "model-0000" + std::to_string(s + 1) + "-of-00002.safetensors";
  }
  WriteFile(dir.path() / "model-00001-of-00002.safetensors", BuildSafetensors(shard[0]));
  WriteFile(dir.path() / "model-00002-of-00002.safetensors", BuildSafetensors(shard[1]));
  WriteFile(dir.path() / "model.safetensors.index.json",
            json{{"metadata", {{"total_size", 1234}}}, {"weight_map", weight_map}}.dump());
  ModelConfig config = Parse(TinyConfigJson("LlamaForCausalLM"));
  absl::StatusOr<ModelWeights> weights = Load(config, dir);
  ASSERT_TRUE(weights.ok()) << weights.status();
  ExpectLoaded(*weights, specs, DType::kBF16);
  EXPECT_EQ(weights->storage->files().size(), 2u);
}

TEST(LoadModelWeightsTest, TiedEmbeddingsShareTheEmbeddingView) {
  TempDir dir;
  Options options;
  options.lm_head = false;
  const std::vector<Spec> specs = ExpectedSpecs(options);
  WriteFile(dir.path() / "model.safetensors", BuildSafetensors(EncodeAll(specs, "BF16")));
  json j = TinyConfigJson("LlamaForCausalLM");
  j["tie_word_embeddings"] = true;
  absl::StatusOr<ModelWeights> weights = Load(Parse(j), dir);
  ASSERT_TRUE(weights.ok()) << weights.status();
  ExpectLoaded(*weights, specs, DType::kBF16);
  EXPECT_EQ(weights->lm_head.data, weights->embed_tokens.data);
  EXPECT_EQ(weights->lm_head.shape, weights->embed_tokens.shape);
}

TEST(LoadModelWeightsTest, Qwen2LoadsQkvBiases) {
  TempDir dir;
  Options options;
  options.qkv_bias = true;
  const std::vector<Spec> specs = ExpectedSpecs(options);
  WriteFile(dir.path() / "model.safetensors", BuildSafetensors(EncodeAll(specs, "F32")));
  absl::StatusOr<ModelWeights> weights = Load(Parse(TinyConfigJson("Qwen2ForCausalLM")), dir);
  ASSERT_TRUE(weights.ok()) << weights.status();
  ExpectLoaded(*weights, specs, DType::kF32);
  EXPECT_FALSE(weights->layers[0].o_bias.present());
}

TEST(LoadModelWeightsTest, Qwen3LoadsQkNormsAtExplicitHeadDim) {
  TempDir dir;
  Options options;
  options.qk_norm = true;
  options.head_dim = 8;  // hidden / heads would be 4
  const std::vector<Spec> specs = ExpectedSpecs(options);
  WriteFile(dir.path() / "model.safetensors", BuildSafetensors(EncodeAll(specs, "BF16")));
  json j = TinyConfigJson("Qwen3ForCausalLM");
  j["head_dim"] = 8;
  absl::StatusOr<ModelWeights> weights = Load(Parse(j), dir);
  ASSERT_TRUE(weights.ok()) << weights.status();
  ExpectLoaded(*weights, specs, DType::kBF16);
}

TEST(LoadModelWeightsTest, LlamaAttentionAndMlpBiases) {
  TempDir dir;
  Options options;
  options.qkv_bias = options.o_bias = options.mlp_bias = true;
  const std::vector<Spec> specs = ExpectedSpecs(options);
  WriteFile(dir.path() / "model.safetensors", BuildSafetensors(EncodeAll(specs, "BF16")));
  json j = TinyConfigJson("LlamaForCausalLM");
  j["attention_bias"] = true;
  j["mlp_bias"] = true;
  absl::StatusOr<ModelWeights> weights = Load(Parse(j), dir);
  ASSERT_TRUE(weights.ok()) << weights.status();
  ExpectLoaded(*weights, specs, DType::kBF16);
}

// ---- errors ----

// Writes the Llama checkpoint with `edit` applied to its tensor list and returns the load error.
std::string LoadError(const std::function<void(std::vector<TestTensor>&)>& edit,
                      const json& config_json = TinyConfigJson("LlamaForCausalLM")) {
  TempDir dir;
  std::vector<TestTensor> tensors = EncodeAll(ExpectedSpecs({}), "BF16");
  edit(tensors);
  WriteFile(dir.path() / "model.safetensors", BuildSafetensors(tensors));
  const std::string message = ErrorOf(Load(Parse(config_json), dir));
  EXPECT_THAT(message, HasSubstr(dir.file("model.safetensors")));
  return message;
}

void Remove(std::vector<TestTensor>& tensors, const std::string& name) {
  std::erase_if(tensors, [&](const TestTensor& t) { return t.name == name; });
}

TEST(LoadModelWeightsErrorTest, MissingTensor) {
  const std::string message =
      LoadError([](std::vector<TestTensor>& t) { Remove(t, "model.layers.1.mlp.up_proj.weight"); });
  EXPECT_THAT(message, HasSubstr("'model.layers.1.mlp.up_proj.weight'"));
}

TEST(LoadModelWeightsErrorTest, MissingLmHeadWhenUntied) {
  const std::string message =
      LoadError([](std::vector<TestTensor>& t) { Remove(t, "lm_head.weight"); });
  EXPECT_THAT(message, HasSubstr("'lm_head.weight'"));
  EXPECT_THAT(message, HasSubstr("tie_word_embeddings"));
}

TEST(LoadModelWeightsErrorTest, WrongShape) {
  const std::string message = LoadError([](std::vector<TestTensor>& t) {
    for (TestTensor& tensor : t) {
      if (tensor.name == "model.layers.0.self_attn.k_proj.weight") {
        tensor.shape = {16, 8};  // same bytes, transposed shape
      }
    }
  });
  EXPECT_THAT(message, HasSubstr("'model.layers.0.self_attn.k_proj.weight'"));
  EXPECT_THAT(message, HasSubstr("[16, 8]"));
  EXPECT_THAT(message, HasSubstr("[8, 16]"));
}

TEST(LoadModelWeightsErrorTest, UnsupportedDtype) {
  const std::string message = LoadError([](std::vector<TestTensor>& t) {
    Remove(t, "model.norm.weight");
    t.push_back({"model.norm.weight", "I64", {16}, std::string(16 * 8, '\0')});
  });
  EXPECT_THAT(message, HasSubstr("'model.norm.weight'"));
  EXPECT_THAT(message, HasSubstr("I64"));
}

TEST(LoadModelWeightsErrorTest, MissingBiasForQwen2) {
  const std::string message =
      LoadError([](std::vector<TestTensor>&) {}, TinyConfigJson("Qwen2ForCausalLM"));
  EXPECT_THAT(message, HasSubstr("'model.layers.0.self_attn.q_proj.bias'"));
}

TEST(LoadModelWeightsErrorTest, MalformedFileNamesTheFile) {
  TempDir dir;
  WriteFile(dir.path() / "model.safetensors", "abc");
  const std::string message = ErrorOf(Load(Parse(TinyConfigJson("LlamaForCausalLM")), dir));
  EXPECT_THAT(message, HasSubstr(dir.file("model.safetensors")));
}

TEST(LoadModelWeightsErrorTest, NoCheckpointFiles) {
  TempDir dir;
  absl::StatusOr<ModelWeights> weights = Load(Parse(TinyConfigJson("LlamaForCausalLM")), dir);
  ASSERT_FALSE(weights.ok());
  EXPECT_EQ(weights.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(weights.status().message()), HasSubstr(dir.path().string()));
}

TEST(LoadModelWeightsErrorTest, IndexProblems) {
  const std::vector<TestTensor> tensors = EncodeAll(ExpectedSpecs({}), "BF16");
  const ModelConfig config = Parse(TinyConfigJson("LlamaForCausalLM"));
  auto write = [&](const TempDir& dir, const json& weight_map) {
    WriteFile(dir.path() / "shard.safetensors", BuildSafetensors(tensors));
    WriteFile(dir.path() / "model.safetensors.index.json", json{{"weight_map", weight_map}}.dump());
  };
  json full = json::object();
  for (const TestTensor& t : tensors) full[t.name] = "shard.safetensors";

  {  // a needed tensor is not in the weight map
    TempDir dir;
    json map = full;
    map.erase("model.norm.weight");
    write(dir, map);
    const std::string message = ErrorOf(Load(config, dir));
    EXPECT_THAT(message, HasSubstr(dir.file("model.safetensors.index.json")));
    EXPECT_THAT(message, HasSubstr("'model.norm.weight'"));
  }
  {  // the index names a shard that does not exist
    TempDir dir;
    json map = full;
    map["model.norm.weight"] = "missing.safetensors";
    write(dir, map);
    EXPECT_THAT(ErrorOf(Load(config, dir)), HasSubstr(dir.file("missing.safetensors")));
  }
  {  // the index names a shard outside the directory
    TempDir dir;
    json map = full;
    map["model.norm.weight"] = "../elsewhere.safetensors";
    write(dir, map);
    EXPECT_THAT(ErrorOf(Load(config, dir)), HasSubstr("not a file name"));
  }
  {  // the index says a shard holds a tensor that it does not
    TempDir dir;
    json map = full;
    map["model.norm.weight"] = "other.safetensors";
    write(dir, map);
    WriteFile(dir.path() / "other.safetensors", BuildSafetensors({tensors[0]}));
    const std::string message = ErrorOf(Load(config, dir));
    EXPECT_THAT(message, HasSubstr(dir.file("other.safetensors")));
    EXPECT_THAT(message, HasSubstr("'model.norm.weight'"));
  }
  {  // the index is not JSON
    TempDir dir;
    WriteFile(dir.path() / "model.safetensors.index.json", "{weight_map");
    EXPECT_THAT(ErrorOf(Load(config, dir)), HasSubstr("model.safetensors.index.json"));
  }
}

}  // namespace
}  // namespace stride::engine::model
