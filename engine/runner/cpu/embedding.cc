#include <cstring>

#include "engine/runner/cpu/ops.h"

namespace stride::engine::runner::cpu {

void Embedding(const float* table, int hidden, std::span<const int32_t> ids, float* out) {
  for (size_t t = 0; t < ids.size(); ++t) {
    std::memcpy(out + t * hidden, table + static_cast<int64_t>(ids[t]) * hidden,
                sizeof(float) * hidden);
  }
}

}  // namespace stride::engine::runner::cpu
