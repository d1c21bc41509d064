// Splits a chat template into tokens with jinja2's lexing rules as transformers configures them:
// trim_blocks (drop the newline right after a block or comment tag), lstrip_blocks (drop the
// spaces and tabs before a block or comment tag that starts a line), "-" / "+" whitespace
// control on tags, {# comments #}, {% raw %} blocks, newline normalization and the removal of a
// single trailing newline (keep_trailing_newline=False).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/text/jinja/token.h"

namespace stride::engine::text::jinja {

struct LexedTemplate {
  std::string source;         // newline-normalized; token offsets point into it
  std::vector<Token> tokens;  // ends with kEndOfInput
};

absl::StatusOr<LexedTemplate> Lex(std::string_view source);

}  // namespace stride::engine::text::jinja
