// Python's str() and repr() of template values, which is what `{{ value }}` prints: templates
// sometimes print a list or dict (e.g. Llama 3 printing list-of-parts content), and transformers'
// output then contains Python's repr: `[{'type': 'text', 'text': 'hi'}]`, `None`, `True`, `1.0`.
#pragma once

#include <string>
#include <string_view>

#include "engine/text/jinja/value.h"

namespace stride::engine::text::jinja {

// repr(float): the shortest round-tripping digits, "1.0", "1e+16", "1.5e-05", "inf", "nan".
std::string PyFloatRepr(double d);

// repr(str): single quotes unless the text has ' and no ", Python's escapes.
std::string PyStringRepr(std::string_view s);

// str(value): strings as they are, Undefined as "", containers as their repr.
void AppendPyStr(const Value& v, std::string* out);
std::string PyStr(const Value& v);

// repr(value).
void AppendPyRepr(const Value& v, std::string* out);
std::string PyRepr(const Value& v);

}  // namespace stride::engine::text::jinja
