// See weight_layout.h.
#include "engine/model/weight_layout.h"

#include "absl/strings/str_cat.h"

namespace stride::engine::model {

std::vector<WeightSlot> ListWeightSlots(const ModelConfig& config, ModelWeights& weights) {
  const int64_t hidden = config.hidden_size;
  const int64_t q_size = static_cast<int64_t>(config.num_heads) * config.head_dim;
  const int64_t kv_size = static_cast<int64_t>(config.num_kv_heads) * config.head_dim;
  const int64_t ffn = config.intermediate_size;
  const int64_t vocab = config.vocab_size;

  std::vector<WeightSlot> slots;
  auto add = [&](std::string name, std::vector<int64_t> shape, WeightRole role, TensorView* view) {
    slots.push_back(WeightSlot{std::move(name), std::move(shape), role, view});
  };

  weights.layers.assign(config.num_layers, LayerWeights());
  add("model.embed_tokens.weight", {vocab, hidden}, WeightRole::kEmbedding, &weights.embed_tokens);
  for (int i = 0; i < config.num_layers; ++i) {
    LayerWeights& layer = weights.layers[i];
    const std::string p = absl::StrCat("model.layers.", i, ".");
    add(p + "input_layernorm.weight", {hidden}, WeightRole::kNorm, &layer.input_layernorm);
    add(p + "self_attn.q_proj.weight", {q_size, hidden}, WeightRole::kMatrix, &layer.q_proj);
    add(p + "self_attn.k_proj.weight", {kv_size, hidden}, WeightRole::kMatrix, &layer.k_proj);
    add(p + "self_attn.v_proj.weight", {kv_size, hidden}, WeightRole::kMatrix, &layer.v_proj);
    if (config.qkv_bias) {
      add(p + "self_attn.q_proj.bias", {q_size}, WeightRole::kBias, &layer.q_bias);
      add(p + "self_attn.k_proj.bias", {kv_size}, WeightRole::kBias, &layer.k_bias);
      add(p + "self_attn.v_proj.bias", {kv_size}, WeightRole::kBias, &layer.v_bias);
    }
    if (config.qk_norm) {
      add(p + "self_attn.q_norm.weight", {config.head_dim}, WeightRole::kNorm, &layer.q_norm);
      add(p + "self_attn.k_norm.weight", {config.head_dim}, WeightRole::kNorm, &layer.k_norm);
    }
    add(p + "self_attn.o_proj.weight", {hidden, q_size}, WeightRole::kMatrix, &layer.o_proj);
    if (config.o_bias) {
      add(p + "self_attn.o_proj.bias", {hidden}, WeightRole::kBias, &layer.o_bias);
    }
    add(p + "post_attention_layernorm.weight", {hidden}, WeightRole::kNorm,
        &layer.post_attention_layernorm);
    add(p + "mlp.gate_proj.weight", {ffn, hidden}, WeightRole::kMatrix, &layer.gate_proj);
    add(p + "mlp.up_proj.weight", {ffn, hidden}, WeightRole::kMatrix, &layer.up_proj);
    add(p + "mlp.down_proj.weight", {hidden, ffn}, WeightRole::kMatrix, &layer.down_proj);
    if (config.mlp_bias) {
      add(p + "mlp.gate_proj.bias", {ffn}, WeightRole::kBias, &layer.gate_bias);
      add(p + "mlp.up_proj.bias", {ffn}, WeightRole::kBias, &layer.up_bias);
      add(p + "mlp.down_proj.bias", {hidden}, WeightRole::kBias, &layer.down_bias);
    }
  }
  add("model.norm.weight", {hidden}, WeightRole::kNorm, &weights.norm);
  if (!config.tie_word_embeddings) {
    add("lm_head.weight", {vocab, hidden}, WeightRole::kMatrix, &weights.lm_head);
  }
  return slots;
}

}  // namespace stride::engine::model
