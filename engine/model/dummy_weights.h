// Synthesizes bfloat16 weights for a config without any files (--load-format dummy), for
// benchmarks at real shapes and for tests. Values are a pure function of (seed, tensor name,
// element index), so they do not depend on the number of threads.
#pragma once

#include <cstdint>

#include "engine/model/model_config.h"
#include "engine/model/weights.h"

namespace stride::engine::model {

// Scales: matrices and embeddings ~ N(0, 0.02^2) (HF's initializer_range), norm weights
// ~ 1 +- 0.02, biases ~ N(0, 0.01^2). `num_threads` <= 0 uses one per hardware thread.
ModelWeights MakeDummyWeights(const ModelConfig& config, uint64_t seed, int num_threads = 0);

// The generator behind MakeDummyWeights: an approximately standard normal value (bounded by
// ±2*sqrt(3)) for element `index` of the stream `key`. Exposed for tests.
float DummyNormal(uint64_t key, uint64_t index);

}  // namespace stride::engine::model
