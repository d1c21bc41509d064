// A parsed Jinja template: Parse once (errors name the unsupported construct and its position),
// then Render any number of times, from any number of threads, with a set of global variables.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/text/jinja/ast.h"
#include "engine/text/jinja/eval_context.h"
#include "engine/text/jinja/value.h"

namespace stride::engine::text::jinja {

class Template {
 public:
  static absl::StatusOr<Template> Parse(std::string_view source);

  // `variables` are visible to the template (after the builtins range, namespace, dict,
  // raise_exception and strftime_now, which they may shadow).
  absl::StatusOr<std::string> Render(const std::vector<std::pair<std::string, Value>>& variables,
                                     const RenderLimits& limits = RenderLimits()) const;

 private:
  struct Parsed {
    std::string source;  // newline-normalized, for error locations
    StmtList body;
  };
  explicit Template(std::shared_ptr<const Parsed> parsed) : parsed_(std::move(parsed)) {}

  std::shared_ptr<const Parsed> parsed_;
};

}  // namespace stride::engine::text::jinja
