#include "engine/text/json_fields.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace stride::engine::text {

using nlohmann::json;

namespace {

absl::Status FieldError(const char* key, const char* expected) {
  return absl::InvalidArgumentError(
      absl::StrCat("tokenizer field '", key, "' is missing or not ", expected));
}

}  // namespace

absl::StatusOr<std::string> GetString(const json& object, const char* key) {
  if (!object.is_object()) return FieldError(key, "a string (enclosing value is not an object)");
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return FieldError(key, "a string");
  return it->get<std::string>();
}

absl::StatusOr<const json*> GetArray(const json& object, const char* key) {
  if (!object.is_object()) return FieldError(key, "an array (enclosing value is not an object)");
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) return FieldError(key, "an array");
  return &*it;
}

absl::StatusOr<int64_t> GetInt(const json& object, const char* key) {
  if (!object.is_object()) return FieldError(key, "an integer (enclosing value is not an object)");
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return FieldError(key, "an integer");
  return it->get<int64_t>();
}

absl::StatusOr<bool> GetBoolOr(const json& object, const char* key, bool fallback) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) return FieldError(key, "a boolean");
  return it->get<bool>();
}

absl::StatusOr<Pattern> GetPattern(const json& object) {
  auto it = object.find("pattern");
  if (it == object.end() || !it->is_object()) return FieldError("pattern", "an object");
  if (auto s = it->find("String"); s != it->end() && s->is_string()) {
    return Pattern{s->get<std::string>(), false};
  }
  if (auto r = it->find("Regex"); r != it->end() && r->is_string()) {
    return Pattern{r->get<std::string>(), true};
  }
  return FieldError("pattern", "{\"String\": ...} or {\"Regex\": ...}");
}

}  // namespace stride::engine::text
