// Tokens of a Jinja template as the lexer produces them: literal text between tags (whitespace
// control already applied), tag delimiters, and the expression tokens inside tags.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace stride::engine::text::jinja {

enum class TokenType {
  kText,
  kVariableBegin,  // {{
  kVariableEnd,    // }}
  kBlockBegin,     // {%
  kBlockEnd,       // %}
  kName,
  kString,  // text holds the decoded literal
  kInteger,
  kFloat,
  kOperator,  // text holds the operator: "+", "//", "==", "(", ...
  kEndOfInput,
};

struct Token {
  TokenType type = TokenType::kEndOfInput;
  std::string text;
  int64_t int_value = 0;
  double float_value = 0;
  size_t offset = 0;  // byte offset in the (newline-normalized) source

  bool IsOperator(std::string_view op) const { return type == TokenType::kOperator && text == op; }
  bool IsName(std::string_view name) const { return type == TokenType::kName && text == name; }
};

// "line L, column C" of a byte offset, for error messages.
std::string DescribeLocation(std::string_view source, size_t offset);

}  // namespace stride::engine::text::jinja
