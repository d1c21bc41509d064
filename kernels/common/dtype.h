// The element type of a CUDA run's weights, activations and KV cache: bf16 for serving, fp32 for
// exact reference runs (`--dtype float32`, what the HuggingFace goldens are computed in). Kernels
// that take a DType read and write their tensor pointers (declared void*) as that type; the
// residual stream, logits, softmax statistics and accumulators are fp32 either way.
// kFP8E4M3 is a KV-cache type only (`--kv-cache-dtype fp8`, with bf16 activations): a cache
// element holds value / scale as e4m3 (saturated to +-448), read back as e4m3 * scale, with one
// scale per tensor (K, V) as vLLM's fp8 KV cache keeps it.
#pragma once

#include <cstddef>

namespace stride::kernels {

enum class DType { kBF16, kF32, kFP8E4M3 };

inline constexpr size_t DTypeBytes(DType t) {
  return t == DType::kF32 ? 4 : t == DType::kFP8E4M3 ? 1 : 2;
}

}  // namespace stride::kernels
