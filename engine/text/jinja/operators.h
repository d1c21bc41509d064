// Python semantics of the template's operators: arithmetic (+ - * / // % **, with str and list
// concatenation and repetition), comparisons and `in`, iteration and ordering (used by sort,
// min, max, unique). jinja2 evaluates these with Python's own operators, so e.g. 7 // -2 is -4,
// 1 == 1.0 == True, and "a" + 1 is a TypeError.
#pragma once

#include "absl/status/statusor.h"
#include "engine/text/jinja/ast.h"
#include "engine/text/jinja/eval_context.h"
#include "engine/text/jinja/value.h"

namespace stride::engine::text::jinja {

absl::StatusOr<Value> BinaryOperation(EvalContext& ctx, BinaryOp op, const Value& a,
                                      const Value& b);
absl::StatusOr<Value> Negate(const Value& v);
absl::StatusOr<bool> Compare(CompareOp op, const Value& a, const Value& b);

// Python's `item in container`.
absl::StatusOr<bool> Contains(const Value& container, const Value& item);

// Python's a < b (-1), a == b (0), a > b (1) for orderable values; TypeError otherwise.
absl::StatusOr<int> ThreeWayCompare(const Value& a, const Value& b);

// list(v): the items of a list/tuple, the keys of a dict, the characters of a string, nothing
// for Undefined; TypeError for what Python cannot iterate.
absl::StatusOr<Value> ToList(const Value& v);

// Python's str % args (printf-style: %s %r %d %i %f %x %% with flags, width and precision).
absl::StatusOr<std::string> PercentFormat(const std::string& format, const Value& args);

}  // namespace stride::engine::text::jinja
