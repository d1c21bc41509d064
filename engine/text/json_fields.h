// Typed field access for tokenizer.json / tokenizer_config.json: a missing or mistyped field is an
// absl::Status naming the field, never an exception.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace stride::engine::text {

absl::StatusOr<std::string> GetString(const nlohmann::json& object, const char* key);
absl::StatusOr<const nlohmann::json*> GetArray(const nlohmann::json& object, const char* key);
absl::StatusOr<int64_t> GetInt(const nlohmann::json& object, const char* key);
// A missing or null field gives `fallback`; any other non-boolean is an error.
absl::StatusOr<bool> GetBoolOr(const nlohmann::json& object, const char* key, bool fallback);

// The {"String": "..."} or {"Regex": "..."} value of a "pattern" field.
struct Pattern {
  std::string text;
  bool is_regex = false;
};
absl::StatusOr<Pattern> GetPattern(const nlohmann::json& object);

}  // namespace stride::engine::text
