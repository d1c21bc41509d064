// Loads HuggingFace safetensors checkpoints (single file or sharded with an index) into
// ModelWeights views. LoadModelWeights(kAuto) calls this.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "engine/model/model_config.h"
#include "engine/model/weights.h"

namespace stride::engine::model {

// `path` is the checkpoint directory or any file inside it (e.g. its config.json). Reads
// model.safetensors if present, else the shards named by model.safetensors.index.json.
absl::StatusOr<ModelWeights> LoadCheckpointWeights(const ModelConfig& config,
                                                   const std::string& path);

}  // namespace stride::engine::model
