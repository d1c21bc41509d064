// Typed, null-tolerant access to request fields. A missing or null field is "absent" (nullopt);
// a field of the wrong type is an InvalidParam error naming it. Integers must be JSON integers
// that fit int64; numbers must be finite.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "server/openai/json_body.h"

namespace stride::server::openai {

// The field, or nullptr when it is missing or null.
const Json* FieldOrNull(const Json& object, absl::string_view key);

absl::StatusOr<std::optional<bool>> OptionalBool(const Json& object, absl::string_view key);
absl::StatusOr<std::optional<int64_t>> OptionalInt(const Json& object, absl::string_view key);
absl::StatusOr<std::optional<double>> OptionalNumber(const Json& object, absl::string_view key);
absl::StatusOr<std::optional<std::string>> OptionalString(const Json& object,
                                                          absl::string_view key);

// An int64 in [lo, hi], or the error "`key` must be in [lo, hi]".
absl::StatusOr<std::optional<int64_t>> OptionalIntIn(const Json& object, absl::string_view key,
                                                     int64_t lo, int64_t hi);
// A finite number in [lo, hi].
absl::StatusOr<std::optional<double>> OptionalNumberIn(const Json& object, absl::string_view key,
                                                       double lo, double hi);

// Parses a JSON integer value (not a field) into int64; `param` names it in the error.
absl::StatusOr<int64_t> IntValue(const Json& value, absl::string_view param);

}  // namespace stride::server::openai
