// Attribute and item access with jinja2's rules: `a.b` tries the attribute (methods, namespace
// and loop attributes) before the item; `a['b']` tries the item first. What is missing is an
// Undefined that remembers why ("'dict object' has no attribute 'x'"), and using an Undefined's
// attribute or item is an error. Slices follow Python (negative indices, steps).
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "engine/text/jinja/eval_context.h"
#include "engine/text/jinja/value.h"

namespace stride::engine::text::jinja {

absl::StatusOr<Value> GetAttribute(const Value& obj, std::string_view name);
absl::StatusOr<Value> GetItem(const Value& obj, const Value& key);
// start/stop/step: None when omitted.
absl::StatusOr<Value> GetSlice(EvalContext& ctx, const Value& obj, const Value& start,
                               const Value& stop, const Value& step);

}  // namespace stride::engine::text::jinja
