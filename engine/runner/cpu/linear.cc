#include <algorithm>

#include "engine/runner/cpu/ops.h"

namespace stride::engine::runner::cpu {
namespace {

float Dot(const float* a, const float* b, int n) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

}  // namespace

void Linear(const float* x, int rows, int in_features, const float* w, const float* bias,
            int out_features, float* y, base::ThreadPool& pool) {
  // Parallel over output features: each weight row is read once per call and reused for all rows
  // of x, which is what matters when rows are few (decode).
  int64_t grain = std::max<int64_t>(1, 16384 / std::max(1, in_features * rows));
  pool.ParallelFor(out_features, grain, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      const float* w_row = w + o * in_features;
      float b = bias ? bias[o] : 0.0f;
      for (int r = 0; r < rows; ++r) {
        y[static_cast<int64_t>(r) * out_features + o] =
            Dot(x + static_cast<int64_t>(r) * in_features, w_row, in_features) + b;
      }
    }
  });
}

}  // namespace stride::engine::runner::cpu
