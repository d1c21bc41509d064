// Reads the RoPE settings of config.json into ModelConfig (rope_theta and rope_scaling), from
// either transformers 4's `rope_theta` + `rope_scaling` or transformers 5's `rope_parameters`.
// Called by ParseModelConfig after the shape fields are parsed.
#pragma once

#include "absl/status/status.h"
#include "engine/model/model_config.h"
#include "nlohmann/json.hpp"

namespace stride::engine::model {

// Needs config.max_position_embeddings already set (yarn derives defaults from it).
absl::Status ParseRope(const nlohmann::json& root, ModelConfig& config);

}  // namespace stride::engine::model
