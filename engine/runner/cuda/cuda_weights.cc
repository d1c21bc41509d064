#include "engine/runner/cuda/cuda_weights.h"

#include <cuda_bf16.h>

#include <cstring>
#include <vector>

#include "base/check.h"

namespace stride::engine::runner::cuda {
namespace {

// Bump allocator over the arena; 256-byte aligned tensors.
class ArenaWriter {
 public:
  ArenaWriter(DeviceBuffer& arena, kernels::DType dtype)
      : arena_(arena), dtype_(dtype), elem_(static_cast<int64_t>(kernels::DTypeBytes(dtype))) {}

  // Appends the concatenation of `views` (each converted to the arena's dtype); null when all
  // are absent.
  const void* Append(std::initializer_list<const model::TensorView*> views) {
    bool any = false;
    for (const model::TensorView* v : views) any |= v->present();
    if (!any) return nullptr;
    offset_ = (offset_ + 255) / 256 * 256;
    const void* start = arena_.get<char>() + offset_;
    for (const model::TensorView* v : views) {
      STRIDE_CHECK(v->present()) << "a fused tensor is partly absent";
      const int64_t n = v->numel();
      STRIDE_CHECK_LE(offset_ + n * elem_, static_cast<int64_t>(arena_.bytes()));
      void* dst = arena_.get<char>() + offset_;
      const bool same = (dtype_ == kernels::DType::kBF16 && v->dtype == model::DType::kBF16) ||
                        (dtype_ == kernels::DType::kF32 && v->dtype == model::DType::kF32);
      if (same) {
        STRIDE_CUDA_CHECK(cudaMemcpy(dst, v->data, n * elem_, cudaMemcpyHostToDevice));
      } else {
        std::vector<float> f32(n);
        model::ToFloat32(*v, f32.data());
        if (dtype_ == kernels::DType::kF32) {
          STRIDE_CUDA_CHECK(cudaMemcpy(dst, f32.data(), n * elem_, cudaMemcpyHostToDevice));
        } else {
          std::vector<__nv_bfloat16> bf16(n);
          for (int64_t i = 0; i < n; ++i) bf16[i] = __float2bfloat16(f32[i]);
          STRIDE_CUDA_CHECK(cudaMemcpy(dst, bf16.data(), n * elem_, cudaMemcpyHostToDevice));
        }
      }
      offset_ += n * elem_;
    }
    return start;
  }

 private:
  DeviceBuffer& arena_;
  kernels::DType dtype_;
  int64_t elem_;
  int64_t offset_ = 0;
};

}  // namespace

int64_t CudaWeightBytes(const model::ModelConfig& c, kernels::DType dtype) {
  const int64_t hidden = c.hidden_size, ffn = c.intermediate_size;
  const int64_t q = static_cast<int64_t>(c.num_heads) * c.head_dim;
  const int64_t kv = static_cast<int64_t>(c.num_kv_heads) * c.head_dim;
  int64_t per_layer = 2 * hidden + (q + 2 * kv) * hidden + (q + 2 * kv) + 2 * c.head_dim +
                      hidden * q + hidden + 3 * ffn * hidden + 3 * ffn;
  int64_t total =
      per_layer * c.num_layers + static_cast<int64_t>(c.vocab_size) * hidden * 2 + hidden;
  // Plus alignment padding (at most 256 bytes for each of ~20 tensors a layer).
  return total * static_cast<int64_t>(kernels::DTypeBytes(dtype)) +
         (static_cast<int64_t>(c.num_layers) * 20 + 8) * 256;
}

CudaWeights UploadWeights(const model::ModelConfig& config, const model::ModelWeights& w,
                          kernels::DType dtype) {
  CudaWeights out;
  out.arena.Reserve(CudaWeightBytes(config, dtype));
  ArenaWriter writer(out.arena, dtype);
  out.embed_tokens = writer.Append({&w.embed_tokens});
  for (const model::LayerWeights& l : w.layers) {
    CudaLayerWeights& d = out.layers.emplace_back();
    d.input_layernorm = writer.Append({&l.input_layernorm});
    d.qkv_proj = writer.Append({&l.q_proj, &l.k_proj, &l.v_proj});
    d.qkv_bias = writer.Append({&l.q_bias, &l.k_bias, &l.v_bias});
    d.q_norm = writer.Append({&l.q_norm});
    d.k_norm = writer.Append({&l.k_norm});
    d.o_proj = writer.Append({&l.o_proj});
    d.o_bias = writer.Append({&l.o_bias});
    d.post_attention_layernorm = writer.Append({&l.post_attention_layernorm});
    d.gate_up_proj = writer.Append({&l.gate_proj, &l.up_proj});
    d.gate_up_bias = writer.Append({&l.gate_bias, &l.up_bias});
    d.down_proj = writer.Append({&l.down_proj});
    d.down_bias = writer.Append({&l.down_bias});
  }
  out.norm = writer.Append({&w.norm});
  out.lm_head =
      w.lm_head.data == w.embed_tokens.data ? out.embed_tokens : writer.Append({&w.lm_head});
  return out;
}

}  // namespace stride::engine::runner::cuda
