// Python methods that templates call on values: str (startswith, split, strip, replace, format,
// ...), dict (items, keys, values, get) and list (index, count), plus loop.cycle. Methods that
// would mutate a value (list.append, dict.update, ...) are refused, as transformers'
// ImmutableSandboxedEnvironment refuses them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/text/jinja/eval_context.h"
#include "engine/text/jinja/value.h"

namespace stride::engine::text::jinja {

using MethodFunction = absl::StatusOr<Value> (*)(EvalContext& ctx, const Value& self,
                                                 const CallArgs& args);

// The method `name` of str / dict / list / loop values, or nullptr.
MethodFunction FindStringMethod(std::string_view name);
MethodFunction FindDictMethod(std::string_view name);
MethodFunction FindListMethod(std::string_view name);
MethodFunction FindLoopMethod(std::string_view name);

// Whether `obj.name` is a mutating method the sandbox refuses.
bool IsUnsafeMethod(const Value& obj, std::string_view name);

// `obj.name` as a callable value.
Value BindMethod(const Value& obj, std::string name, MethodFunction function);

}  // namespace stride::engine::text::jinja
