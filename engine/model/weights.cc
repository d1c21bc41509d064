// LoadModelWeights: picks the checkpoint loader or the dummy generator (see weights.h).
#include "engine/model/weights.h"

#include "engine/model/checkpoint_loader.h"
#include "engine/model/dummy_weights.h"

namespace stride::engine::model {

absl::StatusOr<ModelWeights> LoadModelWeights(const ModelConfig& config, const std::string& dir,
                                              LoadFormat format, uint64_t seed) {
  switch (format) {
    case LoadFormat::kDummy:
      return MakeDummyWeights(config, seed);
    case LoadFormat::kAuto:
      return LoadCheckpointWeights(config, dir);
  }
  return absl::InvalidArgumentError("unknown load format");
}

}  // namespace stride::engine::model
