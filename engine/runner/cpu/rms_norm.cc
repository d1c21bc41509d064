#include <cmath>

#include "engine/runner/cpu/ops.h"

namespace stride::engine::runner::cpu {

void RmsNorm(const float* x, const float* weight, int rows, int dim, double eps, float* out) {
  for (int r = 0; r < rows; ++r) {
    const float* row = x + static_cast<int64_t>(r) * dim;
    float* dst = out + static_cast<int64_t>(r) * dim;
    double sum_squares = 0.0;
    for (int i = 0; i < dim; ++i) sum_squares += static_cast<double>(row[i]) * row[i];
    float inv_rms = static_cast<float>(1.0 / std::sqrt(sum_squares / dim + eps));
    for (int i = 0; i < dim; ++i) dst[i] = weight[i] * (row[i] * inv_rms);
  }
}

}  // namespace stride::engine::runner::cpu
