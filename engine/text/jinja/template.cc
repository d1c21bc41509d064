#include "engine/text/jinja/template.h"

#include "base/status_macros.h"
#include "engine/text/jinja/builtins.h"
#include "engine/text/jinja/interpreter.h"
#include "engine/text/jinja/lexer.h"
#include "engine/text/jinja/parser.h"

namespace stride::engine::text::jinja {

absl::StatusOr<Template> Template::Parse(std::string_view source) {
  STRIDE_ASSIGN_OR_RETURN(LexedTemplate lexed, Lex(source));
  Parser parser(lexed);
  STRIDE_ASSIGN_OR_RETURN(StmtList body, parser.ParseTemplate());
  auto parsed = std::make_shared<Parsed>();
  parsed->source = std::move(lexed.source);
  parsed->body = std::move(body);
  return Template(std::move(parsed));
}

absl::StatusOr<std::string> Template::Render(
    const std::vector<std::pair<std::string, Value>>& variables, const RenderLimits& limits) const {
  std::vector<std::pair<std::string, Value>> globals = BuiltinGlobals();
  globals.insert(globals.end(), variables.begin(), variables.end());
  Interpreter interpreter(parsed_->source, limits, globals);
  return interpreter.Render(parsed_->body);
}

}  // namespace stride::engine::text::jinja
