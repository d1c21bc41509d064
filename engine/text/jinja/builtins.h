// Global functions a chat template can call: jinja2's range (capped at 100000 items as in the
// sandbox), namespace and dict, and transformers' raise_exception(message) and
// strftime_now(format).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/text/jinja/value.h"

namespace stride::engine::text::jinja {

// Prefix of the error message raise_exception produces (the template's message follows).
inline constexpr char kRaisedExceptionPrefix[] = "TemplateError: ";

std::vector<std::pair<std::string, Value>> BuiltinGlobals();

}  // namespace stride::engine::text::jinja
