// RoPE fields of config.json; see model_config_rope.h. Defaults follow transformers'
// modeling_rope_utils: yarn's beta_fast/beta_slow default to 32/1, its
// original_max_position_embeddings to max_position_embeddings, its factor (when absent) to
// max_position_embeddings / original_max_position_embeddings.
#include "engine/model/model_config_rope.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/model/model_config_json.h"

namespace stride::engine::model {
namespace {

using nlohmann::json;

absl::StatusOr<RopeType> RopeTypeFromName(const std::string& name, const std::string& field) {
  if (name == "default") return RopeType::kDefault;
  if (name == "linear") return RopeType::kLinear;
  if (name == "dynamic") return RopeType::kDynamic;
  if (name == "llama3") return RopeType::kLlama3;
  if (name == "yarn") return RopeType::kYarn;
  return absl::InvalidArgumentError(
      absl::StrCat("field '", field, "' is '", name,
                   "'; supported rope types: default, linear, dynamic, llama3, yarn"));
}

absl::Status PositiveNumber(double value, const std::string& field) {
  if (value > 0.0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("field '", field, "' must be positive, got ", value));
}

absl::StatusOr<int> PositiveOriginalMax(const json& params, const std::string& prefix) {
  STRIDE_ASSIGN_OR_RETURN(int64_t value,
                          GetRequiredInt(params, "original_max_position_embeddings", prefix));
  if (value <= 0 || value > INT32_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(
        "field '", prefix, "original_max_position_embeddings' must be positive, got ", value));
  }
  return static_cast<int>(value);
}

absl::Status ParseScalingParameters(const json& params, const std::string& prefix,
                                    int max_position_embeddings, RopeScaling& scaling) {
  switch (scaling.type) {
    case RopeType::kDefault:
      return absl::OkStatus();
    case RopeType::kLinear:
    case RopeType::kDynamic: {
      STRIDE_ASSIGN_OR_RETURN(scaling.factor, GetRequiredDouble(params, "factor", prefix));
      STRIDE_RETURN_IF_ERROR(PositiveNumber(scaling.factor, prefix + "factor"));
      if (scaling.type == RopeType::kDynamic &&
          FindField(params, "original_max_position_embeddings") != nullptr) {
        STRIDE_ASSIGN_OR_RETURN(scaling.original_max_position_embeddings,
                                PositiveOriginalMax(params, prefix));
      }
      return absl::OkStatus();
    }
    case RopeType::kLlama3: {
      STRIDE_ASSIGN_OR_RETURN(scaling.factor, GetRequiredDouble(params, "factor", prefix));
      STRIDE_RETURN_IF_ERROR(PositiveNumber(scaling.factor, prefix + "factor"));
      STRIDE_ASSIGN_OR_RETURN(scaling.low_freq_factor,
                              GetRequiredDouble(params, "low_freq_factor", prefix));
      STRIDE_ASSIGN_OR_RETURN(scaling.high_freq_factor,
                              GetRequiredDouble(params, "high_freq_factor", prefix));
      STRIDE_RETURN_IF_ERROR(PositiveNumber(scaling.low_freq_factor, prefix + "low_freq_factor"));
      if (!(scaling.high_freq_factor > scaling.low_freq_factor)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "field '", prefix, "high_freq_factor' (", scaling.high_freq_factor,
            ") must be greater than 'low_freq_factor' (", scaling.low_freq_factor, ")"));
      }
      STRIDE_ASSIGN_OR_RETURN(scaling.original_max_position_embeddings,
                              PositiveOriginalMax(params, prefix));
      return absl::OkStatus();
    }
    case RopeType::kYarn: {
      if (FindField(params, "original_max_position_embeddings") != nullptr) {
        STRIDE_ASSIGN_OR_RETURN(scaling.original_max_position_embeddings,
                                PositiveOriginalMax(params, prefix));
      } else {
        scaling.original_max_position_embeddings = max_position_embeddings;
      }
      STRIDE_ASSIGN_OR_RETURN(std::optional<double> factor,
                              GetOptionalDouble(params, "factor", prefix));
      scaling.factor = factor.has_value() ? *factor
                                          : static_cast<double>(max_position_embeddings) /
                                                scaling.original_max_position_embeddings;
      STRIDE_RETURN_IF_ERROR(PositiveNumber(scaling.factor, prefix + "factor"));
      STRIDE_ASSIGN_OR_RETURN(scaling.attention_factor,
                              GetOptionalDouble(params, "attention_factor", prefix));
      STRIDE_ASSIGN_OR_RETURN(scaling.mscale, GetOptionalDouble(params, "mscale", prefix));
      STRIDE_ASSIGN_OR_RETURN(scaling.mscale_all_dim,
                              GetOptionalDouble(params, "mscale_all_dim", prefix));
      // transformers reads these with `or`, so 0 also means "use the default".
      STRIDE_ASSIGN_OR_RETURN(scaling.beta_fast,
                              GetOptionalDouble(params, "beta_fast", 32.0, prefix));
      STRIDE_ASSIGN_OR_RETURN(scaling.beta_slow,
                              GetOptionalDouble(params, "beta_slow", 1.0, prefix));
      if (scaling.beta_fast == 0.0) scaling.beta_fast = 32.0;
      if (scaling.beta_slow == 0.0) scaling.beta_slow = 1.0;
      STRIDE_RETURN_IF_ERROR(PositiveNumber(scaling.beta_fast, prefix + "beta_fast"));
      STRIDE_RETURN_IF_ERROR(PositiveNumber(scaling.beta_slow, prefix + "beta_slow"));
      STRIDE_ASSIGN_OR_RETURN(scaling.truncate, GetOptionalBool(params, "truncate", true, prefix));
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseRope(const json& root, ModelConfig& config) {
  // transformers 5: everything in `rope_parameters`; transformers 4: `rope_theta` at the top and
  // an optional `rope_scaling` object. Prefer the newer spelling when both are written.
  const json* params = FindField(root, "rope_parameters");
  std::string name = "rope_parameters";
  if (params == nullptr) {
    params = FindField(root, "rope_scaling");
    name = "rope_scaling";
  }
  if (params != nullptr && !params->is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("field '", name, "' must be an object"));
  }
  const std::string prefix = name + ".";
  if (params != nullptr &&
      (params->contains("full_attention") || params->contains("sliding_attention"))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "field '", name, "' holds per-layer-type parameters, which are not supported"));
  }

  STRIDE_ASSIGN_OR_RETURN(config.rope_theta, GetOptionalDouble(root, "rope_theta", 10000.0));
  std::string theta_field = "rope_theta";
  if (params != nullptr && FindField(*params, "rope_theta") != nullptr) {
    STRIDE_ASSIGN_OR_RETURN(config.rope_theta, GetRequiredDouble(*params, "rope_theta", prefix));
    theta_field = prefix + "rope_theta";
  }
  STRIDE_RETURN_IF_ERROR(PositiveNumber(config.rope_theta, theta_field));

  config.rope_scaling = RopeScaling();
  if (params == nullptr) return absl::OkStatus();
  // `rope_type` is the current key; `type` is what older checkpoints wrote.
  const char* type_key = FindField(*params, "rope_type") != nullptr ? "rope_type" : "type";
  STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> type_name,
                          GetOptionalString(*params, type_key, prefix));
  STRIDE_ASSIGN_OR_RETURN(config.rope_scaling.type,
                          RopeTypeFromName(type_name.value_or("default"), prefix + type_key));
  return ParseScalingParameters(*params, prefix, config.max_position_embeddings,
                                config.rope_scaling);
}

}  // namespace stride::engine::model
