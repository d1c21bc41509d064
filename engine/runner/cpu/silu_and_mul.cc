#include <cmath>

#include "engine/runner/cpu/ops.h"

namespace stride::engine::runner::cpu {

void SiluAndMul(const float* gate, const float* up, int64_t count, float* out) {
  for (int64_t i = 0; i < count; ++i) {
    float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

}  // namespace stride::engine::runner::cpu
