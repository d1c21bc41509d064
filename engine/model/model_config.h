// The shape of a Llama-family model, parsed once from HuggingFace config.json and validated.
// Every backend and the weight loader read this; nothing downstream re-reads the JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace stride::engine::model {

enum class Architecture { kLlama, kMistral, kQwen2, kQwen3 };

enum class RopeType { kDefault, kLinear, kDynamic, kLlama3, kYarn };

// HF `rope_scaling` (transformers 4) or `rope_parameters` (transformers 5).
struct RopeScaling {
  RopeType type = RopeType::kDefault;
  double factor = 1.0;                      // linear, dynamic, llama3, yarn
  double low_freq_factor = 1.0;             // llama3
  double high_freq_factor = 4.0;            // llama3
  int original_max_position_embeddings = 0; // llama3, yarn (and dynamic when given)
  double beta_fast = 32.0;                  // yarn
  double beta_slow = 1.0;                   // yarn
  std::optional<double> attention_factor;   // yarn (mscale); derived from factor when absent
  std::optional<double> mscale;             // yarn (DeepSeek-style)
  std::optional<double> mscale_all_dim;     // yarn (DeepSeek-style)
  bool truncate = true;                     // yarn: round the correction range to integers
};

struct ModelConfig {
  Architecture architecture = Architecture::kLlama;
  std::string architecture_name;  // as written in config.json, e.g. "Qwen2ForCausalLM"
  int vocab_size = 0;
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;  // explicit `head_dim` or hidden_size / num_heads
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  int max_position_embeddings = 0;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;  // Qwen2; Llama's `attention_bias`
  bool o_bias = false;    // Llama's `attention_bias` also biases o_proj
  bool mlp_bias = false;  // Llama's `mlp_bias`
  bool qk_norm = false;   // Qwen3: RMSNorm over each head of q and k before RoPE
  // Per layer: 0 for full attention, else the window in tokens (a query sees itself and the
  // window - 1 tokens before it). Mistral's `sliding_window`; Qwen2/3's use_sliding_window
  // with max_window_layers.
  std::vector<int> layer_sliding_window;
  std::vector<int32_t> bos_token_ids;
  std::vector<int32_t> eos_token_ids;
  std::string torch_dtype;  // "bfloat16", "float16" or "float32" (informational)
};

// Parses config.json text. Unsupported architectures, activations or rope types, and missing or
// inconsistent fields, give InvalidArgument naming the field.
absl::StatusOr<ModelConfig> ParseModelConfig(const std::string& json_text);

// Reads DIR/config.json (or a path to a .json file) and parses it.
absl::StatusOr<ModelConfig> LoadModelConfig(const std::string& path);

}  // namespace stride::engine::model
