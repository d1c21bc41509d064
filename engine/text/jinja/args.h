// Binds the positional and keyword arguments of a call to named parameters, with Python's rules
// and error messages, for filters, tests, methods and global functions.
#pragma once

#include <initializer_list>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/text/jinja/value.h"

namespace stride::engine::text::jinja {

struct Param {
  std::string_view name;
  std::optional<Value> default_value = std::nullopt;  // nullopt: required
};

// Values in parameter order. Too many arguments, unknown or repeated keywords and missing
// required arguments are errors naming `function`.
absl::StatusOr<std::vector<Value>> BindArgs(std::string_view function, const CallArgs& args,
                                            std::initializer_list<Param> params);

}  // namespace stride::engine::text::jinja
