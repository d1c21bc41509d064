#include <cmath>

#include "engine/runner/cpu/ops.h"

namespace stride::engine::runner::cpu {

void ApplyRope(float* x, int num_tokens, int num_heads, int head_dim, const int32_t* positions,
               const model::RopeFrequencies& freqs) {
  const int half = head_dim / 2;
  for (int t = 0; t < num_tokens; ++t) {
    for (int i = 0; i < half; ++i) {
      // The angle is a float32 product, as in transformers; cos and sin of it are exact.
      float angle = freqs.inv_freq[i] * static_cast<float>(positions[t]);
      float c = static_cast<float>(std::cos(static_cast<double>(angle))) * freqs.attention_scaling;
      float s = static_cast<float>(std::sin(static_cast<double>(angle))) * freqs.attention_scaling;
      for (int h = 0; h < num_heads; ++h) {
        float* v = x + (static_cast<int64_t>(t) * num_heads + h) * head_dim;
        float a = v[i], b = v[i + half];
        v[i] = a * c - b * s;
        v[i + half] = b * c + a * s;
      }
    }
  }
}

}  // namespace stride::engine::runner::cpu
