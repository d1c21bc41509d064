// Typed config.json field accessors; see model_config_json.h.
#include "engine/model/model_config_json.h"

#include <cmath>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace stride::engine::model {
namespace {

using nlohmann::json;

absl::Status WrongType(std::string_view prefix, std::string_view key, std::string_view expected,
                       const json& value) {
  return absl::InvalidArgumentError(absl::StrCat("field '", std::string(prefix), std::string(key),
                                                 "' must be ", std::string(expected), ", got ",
                                                 value.dump()));
}

absl::StatusOr<int64_t> ToInt(const json& value, std::string_view key, std::string_view prefix) {
  if (value.is_number_integer()) {
    if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return WrongType(prefix, key, "an integer in range", value);
    }
    return value.get<int64_t>();
  }
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) {
      return static_cast<int64_t>(d);
    }
  }
  return WrongType(prefix, key, "an integer", value);
}

absl::StatusOr<double> ToDouble(const json& value, std::string_view key, std::string_view prefix) {
  if (!value.is_number()) return WrongType(prefix, key, "a number", value);
  const double d = value.get<double>();
  if (!std::isfinite(d)) return WrongType(prefix, key, "a finite number", value);
  return d;
}

}  // namespace

const json* FindField(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

absl::StatusOr<int64_t> GetRequiredInt(const json& object, std::string_view key,
                                       std::string_view prefix) {
  const json* value = FindField(object, key);
  if (value == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("required field '", std::string(prefix), std::string(key), "' is missing"));
  }
  return ToInt(*value, key, prefix);
}

absl::StatusOr<int64_t> GetOptionalInt(const json& object, std::string_view key,
                                       int64_t default_value, std::string_view prefix) {
  const json* value = FindField(object, key);
  if (value == nullptr) return default_value;
  return ToInt(*value, key, prefix);
}

absl::StatusOr<double> GetRequiredDouble(const json& object, std::string_view key,
                                         std::string_view prefix) {
  const json* value = FindField(object, key);
  if (value == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("required field '", std::string(prefix), std::string(key), "' is missing"));
  }
  return ToDouble(*value, key, prefix);
}

absl::StatusOr<std::optional<double>> GetOptionalDouble(const json& object, std::string_view key,
                                                        std::string_view prefix) {
  const json* value = FindField(object, key);
  if (value == nullptr) return std::optional<double>();
  absl::StatusOr<double> d = ToDouble(*value, key, prefix);
  if (!d.ok()) return d.status();
  return std::optional<double>(*d);
}

absl::StatusOr<double> GetOptionalDouble(const json& object, std::string_view key,
                                         double default_value, std::string_view prefix) {
  const json* value = FindField(object, key);
  if (value == nullptr) return default_value;
  return ToDouble(*value, key, prefix);
}

absl::StatusOr<bool> GetOptionalBool(const json& object, std::string_view key, bool default_value,
                                     std::string_view prefix) {
  const json* value = FindField(object, key);
  if (value == nullptr) return default_value;
  if (!value->is_boolean()) return WrongType(prefix, key, "true or false", *value);
  return value->get<bool>();
}

absl::StatusOr<std::optional<std::string>> GetOptionalString(const json& object,
                                                             std::string_view key,
                                                             std::string_view prefix) {
  const json* value = FindField(object, key);
  if (value == nullptr) return std::optional<std::string>();
  if (!value->is_string()) return WrongType(prefix, key, "a string", *value);
  return std::optional<std::string>(value->get<std::string>());
}

}  // namespace stride::engine::model
