// Model weights converted once to float32 for the CPU backend (the reference computes in fp32
// whatever the checkpoint's dtype).
#pragma once

#include <vector>

#include "engine/model/model_config.h"
#include "engine/model/weights.h"

namespace stride::engine::runner::cpu {

struct CpuLayerWeights {
  std::vector<float> input_layernorm, post_attention_layernorm;
  std::vector<float> q_proj, k_proj, v_proj, o_proj;
  std::vector<float> q_bias, k_bias, v_bias, o_bias;  // empty when absent
  std::vector<float> q_norm, k_norm;                  // empty when absent
  std::vector<float> gate_proj, up_proj, down_proj;
  std::vector<float> gate_bias, up_bias, down_bias;
};

struct CpuWeights {
  std::vector<float> embed_tokens;
  std::vector<CpuLayerWeights> layers;
  std::vector<float> norm;
  std::vector<float> lm_head;  // a copy even when tied: simple, and tiny next to the rest
};

CpuWeights ConvertWeights(const model::ModelWeights& weights);

}  // namespace stride::engine::runner::cpu
