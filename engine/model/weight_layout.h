// The list of tensors a ModelConfig implies, with their HuggingFace names and exact shapes, each
// bound to the TensorView in ModelWeights it fills. The checkpoint loader and the dummy-weight
// generator both walk this list, so the two can never disagree on names or shapes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/model/model_config.h"
#include "engine/model/weights.h"

namespace stride::engine::model {

// How a tensor is used; the dummy generator picks its value scale from this.
enum class WeightRole { kEmbedding, kMatrix, kNorm, kBias };

struct WeightSlot {
  std::string name;  // e.g. "model.layers.3.self_attn.q_proj.weight"
  std::vector<int64_t> shape;
  WeightRole role = WeightRole::kMatrix;
  TensorView* view = nullptr;  // points into the ModelWeights passed to ListWeightSlots
};

// Resizes weights.layers to config.num_layers and lists every tensor the config needs:
// biases only when the config enables them, q/k norms only for qk_norm, lm_head only when the
// embeddings are not tied (the caller then points lm_head at embed_tokens).
std::vector<WeightSlot> ListWeightSlots(const ModelConfig& config, ModelWeights& weights);

}  // namespace stride::engine::model
