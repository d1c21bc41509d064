#include "server/openai/fields.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "server/openai/api_error.h"

namespace stride::server::openai {

const Json* FieldOrNull(const Json& object, absl::string_view key) {
  auto it = object.find(std::string_view(key.data(), key.size()));
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

absl::StatusOr<std::optional<bool>> OptionalBool(const Json& object, absl::string_view key) {
  const Json* value = FieldOrNull(object, key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) return InvalidParam(key, absl::StrCat(key, " must be a boolean"));
  return value->get<bool>();
}

absl::StatusOr<int64_t> IntValue(const Json& value, absl::string_view param) {
  if (value.is_number_unsigned()) {
    const uint64_t u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return InvalidParam(param, absl::StrCat(param, " is too large"));
    }
    return static_cast<int64_t>(u);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  return InvalidParam(param, absl::StrCat(param, " must be an integer"));
}

absl::StatusOr<std::optional<int64_t>> OptionalInt(const Json& object, absl::string_view key) {
  const Json* value = FieldOrNull(object, key);
  if (value == nullptr) return std::nullopt;
  absl::StatusOr<int64_t> v = IntValue(*value, key);
  if (!v.ok()) return v.status();
  return *v;
}

absl::StatusOr<std::optional<double>> OptionalNumber(const Json& object, absl::string_view key) {
  const Json* value = FieldOrNull(object, key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number()) return InvalidParam(key, absl::StrCat(key, " must be a number"));
  const double v = value->get<double>();
  if (!std::isfinite(v)) return InvalidParam(key, absl::StrCat(key, " must be finite"));
  return v;
}

absl::StatusOr<std::optional<std::string>> OptionalString(const Json& object,
                                                          absl::string_view key) {
  const Json* value = FieldOrNull(object, key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) return InvalidParam(key, absl::StrCat(key, " must be a string"));
  return value->get<std::string>();
}

absl::StatusOr<std::optional<int64_t>> OptionalIntIn(const Json& object, absl::string_view key,
                                                     int64_t lo, int64_t hi) {
  absl::StatusOr<std::optional<int64_t>> v = OptionalInt(object, key);
  if (!v.ok() || !v->has_value()) return v;
  if (**v < lo || **v > hi) {
    return InvalidParam(key, absl::StrCat(key, " must be in [", lo, ", ", hi, "], not ", **v));
  }
  return v;
}

absl::StatusOr<std::optional<double>> OptionalNumberIn(const Json& object, absl::string_view key,
                                                       double lo, double hi) {
  absl::StatusOr<std::optional<double>> v = OptionalNumber(object, key);
  if (!v.ok() || !v->has_value()) return v;
  if (**v < lo || **v > hi) {
    return InvalidParam(key, absl::StrCat(key, " must be in [", lo, ", ", hi, "], not ", **v));
  }
  return v;
}

}  // namespace stride::server::openai
