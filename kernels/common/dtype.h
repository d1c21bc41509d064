// The element type of a CUDA run's weights, activations and KV cache: bf16 for serving, fp32 for
// exact reference runs (`--dtype float32`, what the HuggingFace goldens are computed in). Kernels
// that take a DType read and write their tensor pointers (declared void*) as that type; the
// residual stream, logits, softmax statistics and accumulators are fp32 either way.
#pragma once

#include <cstddef>

namespace stride::kernels {

enum class DType { kBF16, kF32 };

inline constexpr size_t DTypeBytes(DType t) { return t == DType::kF32 ? 4 : 2; }

}  // namespace stride::kernels
