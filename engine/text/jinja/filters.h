// jinja2's built-in filters that chat templates use, with transformers' `tojson` override
// (json.dumps with ensure_ascii=False and optional indent/separators/sort_keys). Filters are
// looked up once, at parse time.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "engine/text/jinja/ast.h"
#include "engine/text/jinja/eval_context.h"
#include "engine/text/jinja/value.h"

namespace stride::engine::text::jinja {

// The filter called `name`, or nullptr when there is none.
FilterFunction FindFilter(std::string_view name);

namespace filters {

// Text filters (filters_text.cc).
absl::StatusOr<Value> Trim(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Upper(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Lower(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Capitalize(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Title(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Replace(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Indent(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Center(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> WordCount(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Escape(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Safe(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> String(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Format(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Truncate(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> ToJson(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Int(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Float(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Abs(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Round(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Default(EvalContext& ctx, const Value& v, const CallArgs& args);

// Sequence filters (filters_sequence.cc).
absl::StatusOr<Value> Length(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> First(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Last(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> List(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Items(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Join(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Map(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Select(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Reject(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> SelectAttr(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> RejectAttr(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Unique(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Sort(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> DictSort(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Reverse(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Sum(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Min(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Max(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Batch(EvalContext& ctx, const Value& v, const CallArgs& args);
absl::StatusOr<Value> Attr(EvalContext& ctx, const Value& v, const CallArgs& args);

}  // namespace filters
}  // namespace stride::engine::text::jinja
