// Python str algorithms shared by string methods and filters (split, splitlines, strip, title,
// capitalize, replace, padding, str.format), all by code point.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/text/jinja/eval_context.h"
#include "engine/text/jinja/value.h"

namespace stride::engine::text::jinja {

// str.split() / rsplit() without a separator (maxsplit < 0: no limit).
std::vector<std::string> SplitWhitespace(std::string_view s, int64_t maxsplit, bool from_right);
// str.split(sep) / rsplit(sep); sep must not be empty.
std::vector<std::string> SplitOn(std::string_view s, std::string_view sep, int64_t maxsplit,
                                 bool from_right);
// str.splitlines(keepends).
std::vector<std::string> SplitLines(std::string_view s, bool keepends);
// str.strip(chars) and friends; chars null: whitespace.
std::string PyStrip(std::string_view s, const std::string* chars, bool left, bool right);
// str.title() and str.capitalize().
std::string PyTitle(std::string_view s);
std::string PyCapitalize(std::string_view s);
// str.replace(old, new, count); count < 0: all.
absl::StatusOr<std::string> PyReplace(EvalContext& ctx, std::string_view s, std::string_view old,
                                      std::string_view replacement, int64_t count);
// str.center (mode 0), ljust (-1), rjust (1).
std::string PyPad(std::string_view s, int64_t width, std::string_view fill, int mode);
// str.format(*args, **kwargs) with auto/explicit numbering, names, .attr/[key] lookups, !r/!s
// and simple format specs (fill/align/width, .Nf, d).
absl::StatusOr<std::string> PyStrFormat(EvalContext& ctx, std::string_view format,
                                        const CallArgs& args);

}  // namespace stride::engine::text::jinja
