#include "engine/text/jinja/lexer.h"

#include <cstdlib>
#include <limits>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/text/jinja/unicode.h"
#include "engine/text/utf8.h"

namespace stride::engine::text::jinja {

std::string DescribeLocation(std::string_view source, size_t offset) {
  offset = std::min(offset, source.size());
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (source[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return absl::StrCat("line ", line, ", column ", offset - line_start + 1);
}

namespace {

// Length of the Python-whitespace character at s[pos], or 0.
size_t WhitespaceAt(std::string_view s, size_t pos) {
  const size_t len = Utf8CharLength(s, pos);
  if (len == 0) return 0;
  size_t p = pos;
  return IsPyWhitespace(DecodeUtf8(s, &p)) ? len : 0;
}

size_t SkipWhitespace(std::string_view s, size_t pos) {
  while (pos < s.size()) {
    const size_t len = WhitespaceAt(s, pos);
    if (len == 0) break;
    pos += len;
  }
  return pos;
}

// Python's str.rstrip(): the length of `s` without its trailing whitespace.
size_t RStripLength(std::string_view s) {
  size_t end = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t ws = WhitespaceAt(s, pos);
    if (ws > 0) {
      pos += ws;
      continue;
    }
    const size_t len = Utf8CharLength(s, pos);
    pos += len == 0 ? 1 : len;
    end = pos;
  }
  return end;
}

bool AllWhitespace(std::string_view s) { return !s.empty() && SkipWhitespace(s, 0) == s.size(); }

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameChar(char c) { return IsNameStart(c) || IsDigit(c); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  explicit Lexer(std::string source) { out_.source = std::move(source); }

  absl::StatusOr<LexedTemplate> Run() {
    const std::string& src = out_.source;
    size_t pos = 0;
    bool line_starting = true;
    while (pos < src.size()) {
      size_t tag = FindTagStart(pos);
      if (tag == std::string::npos) {
        EmitText(src.substr(pos), pos);
        break;
      }
      const char kind = src[tag + 1];
      const char sign =
          (tag + 2 < src.size() && (src[tag + 2] == '-' || src[tag + 2] == '+')) ? src[tag + 2] : 0;
      std::string_view text(src.data() + pos, tag - pos);
      if (sign == '-') {
        text = text.substr(0, RStripLength(text));
      } else if (sign != '+' && kind != '{') {  // lstrip_blocks
        const size_t nl = text.rfind('\n');
        const size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
        if ((l_pos > 0 || line_starting) && AllWhitespace(text.substr(l_pos))) {
          text = text.substr(0, l_pos);
        }
      }
      EmitText(std::string(text), pos);
      const size_t inner = tag + 2 + (sign ? 1 : 0);
      size_t end = 0;
      if (kind == '#') {
        STRIDE_ASSIGN_OR_RETURN(end, SkipComment(tag, inner));
      } else if (kind == '%' && IsRawBegin(inner, &end)) {
        STRIDE_ASSIGN_OR_RETURN(end, LexRaw(tag, end));
      } else {
        STRIDE_ASSIGN_OR_RETURN(end, LexTag(kind, tag, inner));
      }
      line_starting = end > 0 && src[end - 1] == '\n';
      pos = end;
    }
    Token eof;
    eof.type = TokenType::kEndOfInput;
    eof.offset = src.size();
    out_.tokens.push_back(std::move(eof));
    return std::move(out_);
  }

 private:
  absl::Status Error(size_t offset, std::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat("template syntax error at ",
                                                   DescribeLocation(out_.source, offset), ": ",
                                                   std::string(message)));
  }

  size_t FindTagStart(size_t pos) const {
    const std::string& src = out_.source;
    while (true) {
      pos = src.find('{', pos);
      if (pos == std::string::npos || pos + 1 >= src.size()) return std::string::npos;
      const char next = src[pos + 1];
      if (next == '{' || next == '%' || next == '#') return pos;
      ++pos;
    }
  }

  void EmitText(std::string text, size_t offset) {
    if (text.empty()) return;
    Token t;
    t.type = TokenType::kText;
    t.text = std::move(text);
    t.offset = offset;
    out_.tokens.push_back(std::move(t));
  }

  void Emit(TokenType type, size_t offset, std::string text = "") {
    Token t;
    t.type = type;
    t.text = std::move(text);
    t.offset = offset;
    out_.tokens.push_back(std::move(t));
  }

  // Position after a block or comment end "%}" / "#}" at `close` with optional sign before it.
  size_t AfterBlockEnd(size_t close_end, char sign) const {
    const std::string& src = out_.source;
    if (sign == '-') return SkipWhitespace(src, close_end);
    if (sign == '+') return close_end;
    if (close_end < src.size() && src[close_end] == '\n') return close_end + 1;  // trim_blocks
    return close_end;
  }

  absl::StatusOr<size_t> SkipComment(size_t tag, size_t inner) {
    const std::string& src = out_.source;
    const size_t close = src.find("#}", inner);
    if (close == std::string::npos) return Error(tag, "missing end of comment tag");
    const char sign =
        (close > inner && (src[close - 1] == '-' || src[close - 1] == '+')) ? src[close - 1] : 0;
    return AfterBlockEnd(close + 2, sign);
  }

  // Whether "{%[-+] raw [-]%}" starts here; *end is then the position after it.
  bool IsRawBegin(size_t inner, size_t* end) const {
    const std::string& src = out_.source;
    size_t p = SkipWhitespace(src, inner);
    if (src.compare(p, 3, "raw") != 0) return false;
    p += 3;
    if (p < src.size() && IsNameChar(src[p])) return false;
    p = SkipWhitespace(src, p);
    if (src.compare(p, 3, "-%}") == 0) {
      *end = SkipWhitespace(src, p + 3);
      return true;
    }
    if (src.compare(p, 2, "%}") == 0) {
      *end = p + 2;
      return true;
    }
    return false;
  }

  absl::StatusOr<size_t> LexRaw(size_t tag, size_t body) {
    const std::string& src = out_.source;
    size_t search = body;
    while (true) {
      const size_t open = src.find("{%", search);
      if (open == std::string::npos) return Error(tag, "missing {% endraw %} for {% raw %}");
      const char sign = (open + 2 < src.size() && (src[open + 2] == '-' || src[open + 2] == '+'))
                            ? src[open + 2]
                            : 0;
      size_t p = SkipWhitespace(src, open + 2 + (sign ? 1 : 0));
      if (src.compare(p, 6, "endraw") != 0 || (p + 6 < src.size() && IsNameChar(src[p + 6]))) {
        search = open + 2;
        continue;
      }
      p = SkipWhitespace(src, p + 6);
      char end_sign = 0;
      if (p < src.size() && (src[p] == '-' || src[p] == '+')) end_sign = src[p++];
      if (src.compare(p, 2, "%}") != 0) {
        search = open + 2;
        continue;
      }
      std::string_view text(src.data() + body, open - body);
      if (sign == '-') text = text.substr(0, RStripLength(text));
      EmitText(std::string(text), body);
      return AfterBlockEnd(p + 2, end_sign);
    }
  }

  absl::StatusOr<size_t> LexTag(char kind, size_t tag, size_t pos) {
    const std::string& src = out_.source;
    const bool block = kind == '%';
    Emit(block ? TokenType::kBlockBegin : TokenType::kVariableBegin, tag);
    std::string balance;
    while (true) {
      if (pos >= src.size()) {
        return Error(tag, block ? "unexpected end of template, missing '%}'"
                                : "unexpected end of template, missing '}}'");
      }
      if (balance.empty()) {
        if (block) {
          if (src.compare(pos, 3, "-%}") == 0 || src.compare(pos, 3, "+%}") == 0) {
            Emit(TokenType::kBlockEnd, pos);
            return AfterBlockEnd(pos + 3, src[pos]);
          }
          if (src.compare(pos, 2, "%}") == 0) {
            Emit(TokenType::kBlockEnd, pos);
            return AfterBlockEnd(pos + 2, 0);
          }
        } else {
          if (src.compare(pos, 3, "-}}") == 0) {
            Emit(TokenType::kVariableEnd, pos);
            return SkipWhitespace(src, pos + 3);
          }
          if (src.compare(pos, 2, "}}") == 0) {
            Emit(TokenType::kVariableEnd, pos);
            return pos + 2;
          }
        }
      }
      const size_t ws = WhitespaceAt(src, pos);
      if (ws > 0) {
        pos += ws;
        continue;
      }
      const char c = src[pos];
      if (IsDigit(c)) {
        STRIDE_ASSIGN_OR_RETURN(pos, LexNumber(pos));
      } else if (IsNameStart(c)) {
        size_t end = pos;
        while (end < src.size() && IsNameChar(src[end])) ++end;
        Emit(TokenType::kName, pos, src.substr(pos, end - pos));
        pos = end;
      } else if (c == '\'' || c == '"') {
        STRIDE_ASSIGN_OR_RETURN(pos, LexString(pos));
      } else {
        STRIDE_ASSIGN_OR_RETURN(pos, LexOperator(pos, &balance));
      }
    }
  }

  absl::StatusOr<size_t> LexOperator(size_t pos, std::string* balance) {
    const std::string& src = out_.source;
    static constexpr std::string_view kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
    for (std::string_view op : kTwo) {
      if (src.compare(pos, 2, op) == 0) {
        Emit(TokenType::kOperator, pos, std::string(op));
        return pos + 2;
      }
    }
    const char c = src[pos];
    static constexpr std::string_view kOne = "+-/*%~[](){}><=.:|,;";
    if (kOne.find(c) == std::string_view::npos) {
      const size_t len = std::max<size_t>(1, Utf8CharLength(src, pos));
      return Error(pos, absl::StrCat("unexpected character '", src.substr(pos, len), "'"));
    }
    if (c == '(' || c == '[' || c == '{') {
      if (balance->size() >= 256) return Error(pos, "brackets nested too deeply");
      balance->push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    } else if (c == ')' || c == ']' || c == '}') {
      if (balance->empty()) return Error(pos, absl::StrCat("unexpected '", std::string(1, c), "'"));
      if (balance->back() != c) {
        return Error(pos, absl::StrCat("unexpected '", std::string(1, c), "', expected '",
                                       std::string(1, balance->back()), "'"));
      }
      balance->pop_back();
    }
    Emit(TokenType::kOperator, pos, std::string(1, c));
    return pos + 1;
  }

  // Digits with optional single underscores between them, as Python allows.
  size_t ScanDigits(size_t pos, bool (*is_digit)(char)) const {
    const std::string& src = out_.source;
    size_t p = pos;
    while (p < src.size()) {
      if (is_digit(src[p])) {
        ++p;
      } else if (src[p] == '_' && p > pos && p + 1 < src.size() && is_digit(src[p + 1])) {
        ++p;
      } else {
        break;
      }
    }
    return p;
  }

  absl::StatusOr<size_t> LexNumber(size_t pos) {
    const std::string& src = out_.source;
    auto clean = [&](size_t from, size_t to) {
      std::string s;
      for (size_t i = from; i < to; ++i) {
        if (src[i] != '_') s.push_back(src[i]);
      }
      return s;
    };
    if (src[pos] == '0' && pos + 1 < src.size()) {
      const char p = static_cast<char>(src[pos + 1] | 0x20);
      int base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
      if (base != 0) {
        size_t end = pos + 2;
        if (end < src.size() && src[end] == '_') ++end;
        const size_t digits_start = end;
        while (end < src.size() && ((HexValue(src[end]) >= 0 && HexValue(src[end]) < base) ||
                                    (src[end] == '_' && end > digits_start))) {
          ++end;
        }
        const std::string digits = clean(digits_start, end);
        if (digits.empty()) return Error(pos, "invalid integer literal");
        errno = 0;
        const unsigned long long v = std::strtoull(digits.c_str(), nullptr, base);
        if (errno != 0 ||
            v > static_cast<unsigned long long>(std::numeric_limits<int64_t>::max())) {
          return Error(pos, "integer literal too large");
        }
        Token t;
        t.type = TokenType::kInteger;
        t.int_value = static_cast<int64_t>(v);
        t.offset = pos;
        out_.tokens.push_back(std::move(t));
        return end;
      }
    }
    size_t end = ScanDigits(pos, IsDigit);
    bool is_float = false;
    // As jinja2's float rule `(?<!\.)`: in `a.0.1` the digits are two integer subscripts.
    const bool after_dot = pos > 0 && src[pos - 1] == '.';
    if (after_dot) {
      // fall through to the integer
    } else if (end + 1 < src.size() && src[end] == '.' && IsDigit(src[end + 1])) {
      end = ScanDigits(end + 1, IsDigit);
      is_float = true;
    }
    if (!after_dot && end < src.size() && (src[end] == 'e' || src[end] == 'E')) {
      size_t p = end + 1;
      if (p < src.size() && (src[p] == '+' || src[p] == '-')) ++p;
      if (p < src.size() && IsDigit(src[p])) {
        end = ScanDigits(p, IsDigit);
        is_float = true;
      }
    }
    const std::string text = clean(pos, end);
    Token t;
    t.offset = pos;
    if (is_float) {
      t.type = TokenType::kFloat;
      t.float_value = std::strtod(text.c_str(), nullptr);
    } else {
      errno = 0;
      const long long v = std::strtoll(text.c_str(), nullptr, 10);
      if (errno != 0) return Error(pos, "integer literal too large");
      t.type = TokenType::kInteger;
      t.int_value = v;
    }
    out_.tokens.push_back(std::move(t));
    return end;
  }

  absl::StatusOr<size_t> LexString(size_t pos) {
    const std::string& src = out_.source;
    const char quote = src[pos];
    size_t p = pos + 1;
    std::string out;
    while (true) {
      if (p >= src.size()) return Error(pos, "unterminated string literal");
      const char c = src[p];
      if (c == quote) break;
      if (c != '\\') {
        out.push_back(c);
        ++p;
        continue;
      }
      if (p + 1 >= src.size()) return Error(pos, "unterminated string literal");
      const char e = src[p + 1];
      p += 2;
      switch (e) {
        case '\n':
          break;  // line continuation
        case '\\':
          out.push_back('\\');
          break;
        case '\'':
          out.push_back('\'');
          break;
        case '"':
          out.push_back('"');
          break;
        case 'a':
          out.push_back('\a');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'v':
          out.push_back('\v');
          break;
        case 'x':
        case 'u':
        case 'U': {
          const int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (int i = 0; i < n; ++i) {
            if (p + i >= src.size() || HexValue(src[p + i]) < 0) {
              return Error(pos, absl::StrCat("truncated \\", std::string(1, e), " escape"));
            }
            cp = cp * 16 + static_cast<uint32_t>(HexValue(src[p + i]));
          }
          p += n;
          if (cp > 0x10FFFF) return Error(pos, "illegal Unicode character in escape");
          // Join an escaped surrogate pair; a lone surrogate cannot be UTF-8 and becomes U+FFFD.
          if (cp >= 0xD800 && cp <= 0xDBFF && src.compare(p, 2, "\\u") == 0 &&
              p + 6 <= src.size()) {
            uint32_t low = 0;
            bool ok = true;
            for (int i = 0; i < 4; ++i) {
              const int h = HexValue(src[p + 2 + i]);
              if (h < 0) ok = false;
              low = low * 16 + static_cast<uint32_t>(h < 0 ? 0 : h);
            }
            if (ok && low >= 0xDC00 && low <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
              p += 6;
            }
          }
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
          AppendUtf8(cp, &out);
          break;
        }
        case 'N':
          return Error(pos, "\\N{...} escapes are not supported");
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int i = 0; i < 2 && p < src.size() && src[p] >= '0' && src[p] <= '7'; ++i) {
              cp = cp * 8 + static_cast<uint32_t>(src[p++] - '0');
            }
            AppendUtf8(cp, &out);
          } else {
            out.push_back('\\');
            out.push_back(e);
          }
      }
    }
    Token t;
    t.type = TokenType::kString;
    t.text = std::move(out);
    t.offset = pos;
    out_.tokens.push_back(std::move(t));
    return p + 1;
  }

  LexedTemplate out_;
};

// \r\n and \r become \n; one trailing newline is dropped (keep_trailing_newline=False).
std::string NormalizeNewlines(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out.push_back(source[i]);
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

absl::StatusOr<LexedTemplate> Lex(std::string_view source) {
  return Lexer(NormalizeNewlines(source)).Run();
}

}  // namespace stride::engine::text::jinja
