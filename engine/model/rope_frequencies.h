// Rotary-embedding frequencies for every RoPE variant stride supports, computed as HuggingFace
// transformers computes them (modeling_rope_utils), so positions rotate identically. Both the CPU
// ops and the CUDA kernels take their inverse frequencies from here.
#pragma once

#include <vector>

#include "engine/model/model_config.h"

namespace stride::engine::model {

struct RopeFrequencies {
  // head_dim / 2 inverse frequencies, rounded to float32 as transformers stores them.
  std::vector<float> inv_freq;
  // Multiplies cos and sin (yarn's attention factor; 1 otherwise).
  float attention_scaling = 1.0f;
};

// seq_len matters only for `dynamic` scaling, which re-derives the base when a sequence is longer
// than max_position_embeddings (transformers does this per forward from the largest position).
RopeFrequencies ComputeRopeFrequencies(const ModelConfig& config, int seq_len = 0);

}  // namespace stride::engine::model
