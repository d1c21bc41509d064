// JSON in and out of the interpreter: request messages/tools (nlohmann::ordered_json, so dicts
// keep the client's key order as Python's json.loads does) become template values, and the
// `tojson` filter serializes values exactly like Python's json.dumps, which transformers' tojson
// override calls (ensure_ascii=False, separators ", " and ": ", optional indent / sort_keys).
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "engine/text/jinja/value.h"
#include "nlohmann/json.hpp"

namespace stride::engine::text::jinja {

// Converts JSON to a value; fails past kMaxValueDepth nesting levels.
absl::StatusOr<Value> ValueFromJson(const nlohmann::ordered_json& json);

struct JsonDumpOptions {
  bool ensure_ascii = false;
  std::optional<std::string> indent;          // nullopt: one line
  std::optional<std::string> item_separator;  // default ", " (or "," with indent)
  std::string key_separator = ": ";
  bool sort_keys = false;
};

// Python json.dumps(value, ...). Fails for values JSON cannot hold (Undefined, callables, ...).
absl::StatusOr<std::string> DumpJson(const Value& value, const JsonDumpOptions& options);

}  // namespace stride::engine::text::jinja
