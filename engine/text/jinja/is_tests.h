// jinja2's tests, the right side of `value is name(args)`: defined, undefined, none, string,
// mapping, iterable, sequence, number, integer, float, boolean, true, false, even, odd,
// divisibleby, callable, lower, upper, sameas, in and the comparison tests (eq, ne, lt, ...).
#pragma once

#include <string_view>

#include "engine/text/jinja/ast.h"

namespace stride::engine::text::jinja {

// The test called `name`, or nullptr when there is none.
TestFunction FindTest(std::string_view name);

}  // namespace stride::engine::text::jinja
