// Parses HuggingFace config.json for the Llama family. Every field that changes the math is read
// here, validated and given its transformers default, so the rest of the engine trusts ModelConfig.
#include "engine/model/model_config.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/model/model_config_json.h"
#include "engine/model/model_config_rope.h"
#include "nlohmann/json.hpp"

namespace stride::engine::model {
namespace {

using nlohmann::json;

absl::StatusOr<Architecture> ArchitectureFromName(const std::string& name, bool is_model_type) {
  struct Entry {
    const char* class_name;
    const char* model_type;
    Architecture architecture;
  };
  static constexpr Entry kEntries[] = {
      {"LlamaForCausalLM", "llama", Architecture::kLlama},
      {"MistralForCausalLM", "mistral", Architecture::kMistral},
      {"Qwen2ForCausalLM", "qwen2", Architecture::kQwen2},
      {"Qwen3ForCausalLM", "qwen3", Architecture::kQwen3},
  };
  for (const Entry& entry : kEntries) {
    if (name == (is_model_type ? entry.model_type : entry.class_name)) return entry.architecture;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      is_model_type ? "model_type '" : "architectures[0] '", name,
      "' is not supported (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, "
      "Qwen3ForCausalLM)"));
}

absl::Status ParseArchitecture(const json& root, ModelConfig& config) {
  const json* architectures = FindField(root, "architectures");
  if (architectures != nullptr) {
    if (!architectures->is_array()) {
      return absl::InvalidArgumentError("field 'architectures' must be a list of strings");
    }
    if (!architectures->empty()) {
      const json& first = (*architectures)[0];
      if (!first.is_string()) {
        return absl::InvalidArgumentError("field 'architectures[0]' must be a string");
      }
      config.architecture_name = first.get<std::string>();
      STRIDE_ASSIGN_OR_RETURN(config.architecture,
                              ArchitectureFromName(config.architecture_name, false));
      return absl::OkStatus();
    }
  }
  STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> model_type,
                          GetOptionalString(root, "model_type"));
  if (!model_type.has_value()) {
    return absl::InvalidArgumentError(
        "config has neither 'architectures' nor 'model_type': cannot tell the architecture");
  }
  config.architecture_name = *model_type;
  STRIDE_ASSIGN_OR_RETURN(config.architecture, ArchitectureFromName(*model_type, true));
  return absl::OkStatus();
}

absl::StatusOr<int> PositiveInt(const json& root, const char* key) {
  STRIDE_ASSIGN_OR_RETURN(int64_t value, GetRequiredInt(root, key));
  if (value <= 0 || value > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("field '", key, "' must be a positive 32-bit integer, got ", value));
  }
  return static_cast<int>(value);
}

absl::Status ParseShape(const json& root, ModelConfig& config) {
  STRIDE_ASSIGN_OR_RETURN(config.vocab_size, PositiveInt(root, "vocab_size"));
  STRIDE_ASSIGN_OR_RETURN(config.hidden_size, PositiveInt(root, "hidden_size"));
  STRIDE_ASSIGN_OR_RETURN(config.intermediate_size, PositiveInt(root, "intermediate_size"));
  STRIDE_ASSIGN_OR_RETURN(config.num_layers, PositiveInt(root, "num_hidden_layers"));
  STRIDE_ASSIGN_OR_RETURN(config.num_heads, PositiveInt(root, "num_attention_heads"));
  STRIDE_ASSIGN_OR_RETURN(config.max_position_embeddings,
                          PositiveInt(root, "max_position_embeddings"));

  if (FindField(root, "num_key_value_heads") != nullptr) {
    STRIDE_ASSIGN_OR_RETURN(config.num_kv_heads, PositiveInt(root, "num_key_value_heads"));
  } else {
    config.num_kv_heads = config.num_heads;
  }
  if (config.num_heads % config.num_kv_heads != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("field 'num_attention_heads' (", config.num_heads,
                     ") must be a multiple of 'num_key_value_heads' (", config.num_kv_heads, ")"));
  }

  if (FindField(root, "head_dim") != nullptr) {
    STRIDE_ASSIGN_OR_RETURN(config.head_dim, PositiveInt(root, "head_dim"));
  } else {
    if (config.hidden_size % config.num_heads != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field 'hidden_size' (", config.hidden_size, ") is not divisible by ",
          "'num_attention_heads' (", config.num_heads, ") and no 'head_dim' is given"));
    }
    config.head_dim = config.hidden_size / config.num_heads;
  }
  if (config.head_dim % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("head_dim must be even for rotary embeddings, got ", config.head_dim));
  }

  STRIDE_ASSIGN_OR_RETURN(config.rms_norm_eps, GetOptionalDouble(root, "rms_norm_eps", 1e-6));
  if (!(config.rms_norm_eps > 0.0) || !std::isfinite(config.rms_norm_eps)) {
    return absl::InvalidArgumentError(
        absl::StrCat("field 'rms_norm_eps' must be positive, got ", config.rms_norm_eps));
  }

  STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> act, GetOptionalString(root, "hidden_act"));
  if (act.has_value() && *act != "silu") {
    return absl::InvalidArgumentError(
        absl::StrCat("field 'hidden_act' is '", *act, "'; only 'silu' is supported"));
  }
  return absl::OkStatus();
}

// Bias and normalization switches, which differ per architecture.
absl::Status ParseArchitectureFlags(const json& root, ModelConfig& config) {
  STRIDE_ASSIGN_OR_RETURN(config.tie_word_embeddings,
                          GetOptionalBool(root, "tie_word_embeddings", false));
  switch (config.architecture) {
    case Architecture::kLlama: {
      STRIDE_ASSIGN_OR_RETURN(bool attention_bias, GetOptionalBool(root, "attention_bias", false));
      STRIDE_ASSIGN_OR_RETURN(config.mlp_bias, GetOptionalBool(root, "mlp_bias", false));
      config.qkv_bias = attention_bias;
      config.o_bias = attention_bias;
      break;
    }
    case Architecture::kMistral:
      break;
    case Architecture::kQwen2:
      config.qkv_bias = true;  // Qwen2 hard-codes q/k/v biases; o_proj has none.
      break;
    case Architecture::kQwen3: {
      STRIDE_ASSIGN_OR_RETURN(bool attention_bias, GetOptionalBool(root, "attention_bias", false));
      config.qkv_bias = attention_bias;
      config.o_bias = attention_bias;
      config.qk_norm = true;
      break;
    }
  }
  return absl::OkStatus();
}

absl::Status ParseSlidingWindow(const json& root, ModelConfig& config) {
  config.layer_sliding_window.assign(config.num_layers, 0);
  // Llama has no sliding window; its layer_types (if written) may only say full_attention.
  int window = 0;
  if (config.architecture != Architecture::kLlama && FindField(root, "sliding_window") != nullptr) {
    STRIDE_ASSIGN_OR_RETURN(window, PositiveInt(root, "sliding_window"));
  }
  const bool is_qwen =
      config.architecture == Architecture::kQwen2 || config.architecture == Architecture::kQwen3;
  int max_window_layers = 0;
  if (is_qwen) {
    STRIDE_ASSIGN_OR_RETURN(bool use_sliding_window,
                            GetOptionalBool(root, "use_sliding_window", false));
    if (!use_sliding_window) window = 0;
    STRIDE_ASSIGN_OR_RETURN(int64_t layers, GetOptionalInt(root, "max_window_layers", 28));
    if (layers < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("field 'max_window_layers' must be non-negative, got ", layers));
    }
    max_window_layers = static_cast<int>(std::min<int64_t>(layers, config.num_layers));
  }

  const json* layer_types = FindField(root, "layer_types");
  if (layer_types != nullptr) {
    if (!layer_types->is_array() || static_cast<int>(layer_types->size()) != config.num_layers) {
      return absl::InvalidArgumentError(
          absl::StrCat("field 'layer_types' must be a list of num_hidden_layers (",
                       config.num_layers, ") strings"));
    }
    for (int i = 0; i < config.num_layers; ++i) {
      const json& type = (*layer_types)[i];
      const std::string name = type.is_string() ? type.get<std::string>() : type.dump();
      if (name == "full_attention") continue;
      if (name != "sliding_attention") {
        return absl::InvalidArgumentError(
            absl::StrCat("field 'layer_types[", i, "]' is '", name,
                         "'; expected 'full_attention' or 'sliding_attention'"));
      }
      if (window == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("field 'layer_types[", i,
                         "]' is 'sliding_attention' but no sliding window is in "
                         "effect ('sliding_window' is null or 'use_sliding_window' is false)"));
      }
      config.layer_sliding_window[i] = window;
    }
    return absl::OkStatus();
  }
  for (int i = is_qwen ? max_window_layers : 0; i < config.num_layers; ++i) {
    config.layer_sliding_window[i] = window;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int32_t>> ParseTokenIds(const json& root, const char* key) {
  std::vector<int32_t> ids;
  const json* field = FindField(root, key);
  if (field == nullptr) return ids;
  auto append = [&](const json& value) -> absl::Status {
    if (!value.is_number_integer() || value.get<int64_t>() < 0 ||
        value.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
      return absl::InvalidArgumentError(
          absl::StrCat("field '", key, "' must be a non-negative token id or a list of them, got ",
                       value.dump()));
    }
    ids.push_back(static_cast<int32_t>(value.get<int64_t>()));
    return absl::OkStatus();
  };
  if (field->is_array()) {
    for (const json& value : *field) STRIDE_RETURN_IF_ERROR(append(value));
  } else {
    STRIDE_RETURN_IF_ERROR(append(*field));
  }
  return ids;
}

absl::Status ParseDtype(const json& root, ModelConfig& config) {
  const char* key = FindField(root, "dtype") != nullptr ? "dtype" : "torch_dtype";
  STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> dtype, GetOptionalString(root, key));
  if (!dtype.has_value()) return absl::OkStatus();
  if (*dtype != "bfloat16" && *dtype != "float16" && *dtype != "float32") {
    return absl::InvalidArgumentError(
        absl::StrCat("field '", key, "' is '", *dtype, "'; expected bfloat16, float16 or float32"));
  }
  config.torch_dtype = *dtype;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ModelConfig> ParseModelConfig(const std::string& json_text) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config is not valid JSON: ", e.what()));
  }
  if (!root.is_object()) {
    return absl::InvalidArgumentError("config must be a JSON object");
  }
  ModelConfig config;
  STRIDE_RETURN_IF_ERROR(ParseArchitecture(root, config));
  STRIDE_RETURN_IF_ERROR(ParseShape(root, config));
  STRIDE_RETURN_IF_ERROR(ParseArchitectureFlags(root, config));
  STRIDE_RETURN_IF_ERROR(ParseRope(root, config));
  STRIDE_RETURN_IF_ERROR(ParseSlidingWindow(root, config));
  STRIDE_ASSIGN_OR_RETURN(config.bos_token_ids, ParseTokenIds(root, "bos_token_id"));
  STRIDE_ASSIGN_OR_RETURN(config.eos_token_ids, ParseTokenIds(root, "eos_token_id"));
  STRIDE_RETURN_IF_ERROR(ParseDtype(root, config));
  return config;
}

absl::StatusOr<ModelConfig> LoadModelConfig(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::path file = path;
  if (fs::is_directory(file, error)) file /= "config.json";
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open model config ", file.string()));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read model config ", file.string()));
  }
  absl::StatusOr<ModelConfig> config = ParseModelConfig(text.str());
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(file.string(), ": ", config.status().message()));
  }
  return config;
}

}  // namespace stride::engine::model
