// The weights of a Llama-family model as typed views into memory-mapped safetensors files (or
// into buffers synthesized by --load-format dummy). Backends convert or upload from these views;
// the views stay valid while the ModelWeights lives.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/model/model_config.h"

namespace stride::engine::model {

enum class DType { kF32, kF16, kBF16 };

const char* DTypeName(DType dtype);
int DTypeSize(DType dtype);

struct TensorView {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;  // row-major, HF layout ([out_features, in_features] for Linear)
  const void* data = nullptr;  // nullptr: absent (e.g. no bias)

  bool present() const { return data != nullptr; }
  int64_t numel() const;
};

// Converts any dtype to float32 (out must hold view.numel() floats).
void ToFloat32(const TensorView& view, float* out);

struct LayerWeights {
  TensorView input_layernorm;           // [hidden]
  TensorView q_proj, k_proj, v_proj;    // [heads * head_dim, hidden], [kv_heads * head_dim, hidden]
  TensorView q_bias, k_bias, v_bias;    // optional
  TensorView q_norm, k_norm;            // optional [head_dim] (Qwen3)
  TensorView o_proj;                    // [hidden, heads * head_dim]
  TensorView o_bias;                    // optional
  TensorView post_attention_layernorm;  // [hidden]
  TensorView gate_proj, up_proj;        // [intermediate, hidden]
  TensorView down_proj;                 // [hidden, intermediate]
  TensorView gate_bias, up_bias, down_bias;  // optional (mlp_bias)
};

class WeightStorage;  // owns mappings or buffers behind the views

struct ModelWeights {
  TensorView embed_tokens;  // [vocab, hidden]
  std::vector<LayerWeights> layers;
  TensorView norm;          // [hidden]
  TensorView lm_head;       // [vocab, hidden]; the embedding when tie_word_embeddings
  std::shared_ptr<WeightStorage> storage;
};

enum class LoadFormat { kAuto, kDummy };

// kAuto: DIR/model.safetensors or the shards listed in DIR/model.safetensors.index.json.
// Every tensor the config implies must be present with the right shape; extra tensors are
// ignored. Errors name the file and the tensor.
// kDummy: deterministic random weights (seeded) at the config's shapes, in bfloat16, scaled
// like a trained model so activations stay finite.
absl::StatusOr<ModelWeights> LoadModelWeights(const ModelConfig& config, const std::string& dir,
                                              LoadFormat format, uint64_t seed = 0);

}  // namespace stride::engine::model
