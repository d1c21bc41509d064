// Parses a request body into a JSON object with bounded nesting. The depth is checked by a flat
// scan before the parser runs, so hostile input (10^5 nested brackets) costs no stack.
#pragma once

#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace stride::server::openai {

// Requests keep their keys in arrival order (chat templates print tool schemas with tojson).
using Json = nlohmann::ordered_json;

inline constexpr int kMaxJsonDepth = 64;

// Deepest bracket nesting of `text`, ignoring brackets inside strings; stops counting (and
// returns a value > limit) as soon as `limit` is exceeded.
int JsonNestingDepth(absl::string_view text, int limit);

// The body must be a JSON object (invalid UTF-8 and lone surrogates are parse errors).
absl::StatusOr<Json> ParseJsonObject(absl::string_view body, int max_depth = kMaxJsonDepth);

}  // namespace stride::server::openai
