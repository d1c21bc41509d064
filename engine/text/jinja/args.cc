#include "engine/text/jinja/args.h"

#include "absl/strings/str_cat.h"
#include "engine/text/jinja/eval_context.h"

namespace stride::engine::text::jinja {

absl::Status UndefinedError(const Value& undefined) {
  return absl::InvalidArgumentError(absl::StrCat("UndefinedError: ", undefined.str()));
}

absl::Status TypeError(std::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("TypeError: ", std::string(message)));
}

absl::StatusOr<std::vector<Value>> BindArgs(std::string_view function, const CallArgs& args,
                                            std::initializer_list<Param> params) {
  if (args.positional.size() > params.size()) {
    return TypeError(absl::StrCat(std::string(function), "() takes at most ", params.size(),
                                  " argument(s) (", args.positional.size(), " given)"));
  }
  std::vector<std::optional<Value>> bound(params.size());
  for (size_t i = 0; i < args.positional.size(); ++i) bound[i] = args.positional[i];
  for (const auto& [key, value] : args.keyword) {
    size_t index = 0;
    for (const Param& p : params) {
      if (p.name == key) break;
      ++index;
    }
    if (index == params.size()) {
      return TypeError(
          absl::StrCat(std::string(function), "() got an unexpected keyword argument '", key, "'"));
    }
    if (bound[index].has_value()) {
      return TypeError(
          absl::StrCat(std::string(function), "() got multiple values for argument '", key, "'"));
    }
    bound[index] = value;
  }
  std::vector<Value> out;
  out.reserve(params.size());
  size_t i = 0;
  for (const Param& p : params) {
    if (bound[i].has_value()) {
      out.push_back(std::move(*bound[i]));
    } else if (p.default_value.has_value()) {
      out.push_back(*p.default_value);
    } else {
      return TypeError(absl::StrCat(std::string(function), "() missing required argument '",
                                    std::string(p.name), "'"));
    }
    ++i;
  }
  return out;
}

}  // namespace stride::engine::text::jinja
