// Typed accessors for config.json fields: each returns InvalidArgument naming the field when the
// value has the wrong type, and treats JSON null like an absent field (HF writes both).
// Used by the config parser only (model_config.cc, model_config_rope.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace stride::engine::model {

// `prefix` names the enclosing object in messages, e.g. "rope_scaling." gives
// "field 'rope_scaling.factor'". Returns nullptr when the key is absent or null.
const nlohmann::json* FindField(const nlohmann::json& object, std::string_view key);

// Integers may be written as integral floats (4096.0); anything else is an error.
absl::StatusOr<int64_t> GetRequiredInt(const nlohmann::json& object, std::string_view key,
                                       std::string_view prefix = "");
absl::StatusOr<int64_t> GetOptionalInt(const nlohmann::json& object, std::string_view key,
                                       int64_t default_value, std::string_view prefix = "");
absl::StatusOr<double> GetRequiredDouble(const nlohmann::json& object, std::string_view key,
                                         std::string_view prefix = "");
absl::StatusOr<std::optional<double>> GetOptionalDouble(const nlohmann::json& object,
                                                        std::string_view key,
                                                        std::string_view prefix = "");
absl::StatusOr<double> GetOptionalDouble(const nlohmann::json& object, std::string_view key,
                                         double default_value, std::string_view prefix = "");
absl::StatusOr<bool> GetOptionalBool(const nlohmann::json& object, std::string_view key,
                                     bool default_value, std::string_view prefix = "");
absl::StatusOr<std::optional<std::string>> GetOptionalString(const nlohmann::json& object,
                                                             std::string_view key,
                                                             std::string_view prefix = "");

}  // namespace stride::engine::model
