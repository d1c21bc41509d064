#include "engine/runner/cpu/cpu_weights.h"

namespace stride::engine::runner::cpu {
namespace {

std::vector<float> ToVector(const model::TensorView& view) {
  if (!view.present()) return {};
  std::vector<float> out(view.numel());
  model::ToFloat32(view, out.data());
  return out;
}

}  // namespace

CpuWeights ConvertWeights(const model::ModelWeights& weights) {
  CpuWeights out;
  out.embed_tokens = ToVector(weights.embed_tokens);
  out.norm = ToVector(weights.norm);
  out.lm_head = ToVector(weights.lm_head);
  for (const model::LayerWeights& layer : weights.layers) {
    CpuLayerWeights& l = out.layers.emplace_back();
    l.input_layernorm = ToVector(layer.input_layernorm);
    l.post_attention_layernorm = ToVector(layer.post_attention_layernorm);
    l.q_proj = ToVector(layer.q_proj);
    l.k_proj = ToVector(layer.k_proj);
    l.v_proj = ToVector(layer.v_proj);
    l.o_proj = ToVector(layer.o_proj);
    l.q_bias = ToVector(layer.q_bias);
    l.k_bias = ToVector(layer.k_bias);
    l.v_bias = ToVector(layer.v_bias);
    l.o_bias = ToVector(layer.o_bias);
    l.q_norm = ToVector(layer.q_norm);
    l.k_norm = ToVector(layer.k_norm);
    l.gate_proj = ToVector(layer.gate_proj);
    l.up_proj = ToVector(layer.up_proj);
    l.down_proj = ToVector(layer.down_proj);
    l.gate_bias = ToVector(layer.gate_bias);
    l.up_bias = ToVector(layer.up_bias);
    l.down_bias = ToVector(layer.down_bias);
  }
  return out;
}

}  // namespace stride::engine::runner::cpu
