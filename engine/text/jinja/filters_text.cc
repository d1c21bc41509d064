// Filters on strings and scalars: trim, upper/lower/capitalize/title, replace, indent, center,
// wordcount, escape, safe, string, format, truncate, tojson, int, float, abs, round, default.
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/text/jinja/args.h"
#include "engine/text/jinja/filters.h"
#include "engine/text/jinja/operators.h"
#include "engine/text/jinja/string_ops.h"
#include "engine/text/jinja/unicode.h"
#include "engine/text/jinja/value_json.h"
#include "engine/text/jinja/value_repr.h"

namespace stride::engine::text::jinja::filters {
namespace {

Value Str(std::string s) { return Value::String(std::move(s)); }

absl::Status NeedInt(const Value& v) {
  if (v.is_int() || v.is_bool()) return absl::OkStatus();
  return TypeError(absl::StrCat("'", TypeName(v), "' object cannot be interpreted as an integer"));
}

// Python's int(text, base) for the `int` filter: optional whitespace, sign and underscores.
bool ParseIntText(std::string_view text, int base, int64_t* out) {
  std::string s;
  for (char c : text) {
    if (c != '_') s.push_back(c);
  }
  const size_t b = s.find_first_not_of(" \t\n\r\f\v");
  const size_t e = s.find_last_not_of(" \t\n\r\f\v");
  if (b == std::string::npos) return false;
  s = s.substr(b, e - b + 1);
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, base);
  if (errno != 0 || end != s.c_str() + s.size()) return false;
  *out = v;
  return true;
}

bool ParseFloatText(std::string_view text, double* out) {
  std::string s;
  for (char c : text) {
    if (c != '_') s.push_back(c);
  }
  const size_t b = s.find_first_not_of(" \t\n\r\f\v");
  const size_t e = s.find_last_not_of(" \t\n\r\f\v");
  if (b == std::string::npos) return false;
  s = s.substr(b, e - b + 1);
  if (s.empty() || s.find_first_of("xXpP") != std::string::npos) return false;  // no hex floats
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return false;
  *out = v;
  return true;
}

// Round half to even of x / 10^k for integers (Python's round(int, -k)).
int64_t RoundIntHalfEven(int64_t x, int64_t k) {
  int64_t p = 1;
  for (int64_t i = 0; i < k; ++i) {
    if (p > INT64_MAX / 10) return 0;
    p *= 10;
  }
  int64_t q = x / p;
  int64_t r = x % p;
  if (r < 0) {
    r += p;
    q -= 1;
  }
  if (r * 2 > p || (r * 2 == p && (q & 1))) q += 1;
  int64_t out = 0;
  if (__builtin_mul_overflow(q, p, &out)) return x;
  return out;
}

}  // namespace

absl::StatusOr<Value> Trim(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("trim", args, {{"chars", Value::None()}}));
  if (!a[0].is_none() && !a[0].is_string()) {
    return TypeError("strip arg must be None or str");
  }
  return Str(PyStrip(PyStr(v), a[0].is_none() ? nullptr : &a[0].str(), true, true));
}

absl::StatusOr<Value> Upper(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("upper", args, {}).status());
  return Str(PyUpper(PyStr(v)));
}

absl::StatusOr<Value> Lower(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("lower", args, {}).status());
  return Str(PyLower(PyStr(v)));
}

absl::StatusOr<Value> Capitalize(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("capitalize", args, {}).status());
  return Str(PyCapitalize(PyStr(v)));
}

absl::StatusOr<Value> Title(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("title", args, {}).status());
  // jinja2 capitalizes after runs of `-`, whitespace, `(`, `{`, `[` and `<` (not str.title()).
  std::string out;
  bool word_start = true;
  for (char32_t cp : DecodeCodepoints(PyStr(v))) {
    const bool sep =
        IsPyWhitespace(cp) || cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<';
    if (sep) {
      AppendCodepoint(cp, &out);
      word_start = true;
    } else {
      AppendCodepoint(word_start ? ToUpper(cp) : ToLower(cp), &out);
      word_start = false;
    }
  }
  return Str(std::move(out));
}

absl::StatusOr<Value> Replace(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a,
                          BindArgs("replace", args, {{"old"}, {"new"}, {"count", Value::None()}}));
  int64_t count = -1;
  if (!a[2].is_none()) {
    STRIDE_RETURN_IF_ERROR(NeedInt(a[2]));
    count = a[2].as_int();
  }
  STRIDE_ASSIGN_OR_RETURN(std::string out,
                          PyReplace(ctx, PyStr(v), PyStr(a[0]), PyStr(a[1]), count));
  return Str(std::move(out));
}

absl::StatusOr<Value> Indent(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("indent", args,
                                           {{"width", Value::Int(4)},
                                            {"first", Value::Bool(false)},
                                            {"blank", Value::Bool(false)}}));
  std::string indention;
  if (a[0].is_string()) {
    indention = a[0].str();
  } else {
    STRIDE_RETURN_IF_ERROR(NeedInt(a[0]));
    const int64_t n = a[0].as_int();
    STRIDE_RETURN_IF_ERROR(ctx.CheckSize(static_cast<size_t>(std::max<int64_t>(0, n))));
    if (n > 0) indention.assign(static_cast<size_t>(n), ' ');
  }
  const std::vector<std::string> lines = SplitLines(PyStr(v) + "\n", false);
  STRIDE_RETURN_IF_ERROR(ctx.CheckSize(PyStr(v).size() + lines.size() * indention.size()));
  std::string out;
  if (a[2].Truthy()) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i > 0) absl::StrAppend(&out, "\n", indention);
      out += lines[i];
    }
  } else if (!lines.empty()) {
    out = lines[0];
    for (size_t i = 1; i < lines.size(); ++i) {
      out += "\n";
      if (!lines[i].empty()) out += indention;
      out += lines[i];
    }
  }
  if (a[1].Truthy()) out = indention + out;
  return Str(std::move(out));
}

absl::StatusOr<Value> Center(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("center", args, {{"width", Value::Int(80)}}));
  STRIDE_RETURN_IF_ERROR(NeedInt(a[0]));
  STRIDE_RETURN_IF_ERROR(ctx.CheckSize(static_cast<size_t>(std::max<int64_t>(0, a[0].as_int()))));
  return Str(PyPad(PyStr(v), a[0].as_int(), " ", 0));
}

absl::StatusOr<Value> WordCount(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("wordcount", args, {}).status());
  int64_t words = 0;
  bool in_word = false;
  for (char32_t cp : DecodeCodepoints(PyStr(v))) {
    const bool w = IsWordChar(cp);
    if (w && !in_word) ++words;
    in_word = w;
  }
  return Value::Int(words);
}

absl::StatusOr<Value> Escape(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("escape", args, {}).status());
  std::string out;
  for (char c : PyStr(v)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  STRIDE_RETURN_IF_ERROR(ctx.CheckSize(out.size()));
  return Str(std::move(out));
}

absl::StatusOr<Value> Safe(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("safe", args, {}).status());
  return Str(PyStr(v));
}

absl::StatusOr<Value> String(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("string", args, {}).status());
  return Str(PyStr(v));
}

absl::StatusOr<Value> Format(EvalContext& ctx, const Value& v, const CallArgs& args) {
  if (!args.positional.empty() && !args.keyword.empty()) {
    return absl::InvalidArgumentError(
        "FilterArgumentError: can't handle positional and keyword arguments at the same time");
  }
  Value operands;
  if (!args.keyword.empty()) {
    DictData dict;
    for (const auto& [k, val] : args.keyword) dict.Set(Value::String(k), val);
    operands = Value::Dict(std::move(dict));
  } else {
    operands = Value::List(args.positional, /*is_tuple=*/true);
  }
  STRIDE_ASSIGN_OR_RETURN(std::string out, PercentFormat(PyStr(v), operands));
  STRIDE_RETURN_IF_ERROR(ctx.CheckSize(out.size()));
  return Str(std::move(out));
}

absl::StatusOr<Value> Truncate(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("truncate", args,
                                           {{"length", Value::Int(255)},
                                            {"killwords", Value::Bool(false)},
                                            {"end", Str("...")},
                                            {"leeway", Value::Int(5)}}));
  STRIDE_RETURN_IF_ERROR(NeedInt(a[0]));
  STRIDE_RETURN_IF_ERROR(NeedInt(a[3]));
  const std::u32string s = DecodeCodepoints(PyStr(v));
  const std::u32string end = DecodeCodepoints(PyStr(a[2]));
  const int64_t length = a[0].as_int();
  if (length < static_cast<int64_t>(end.size())) {
    return absl::InvalidArgumentError("expected length >= len(end)");
  }
  if (a[3].as_int() < 0) return absl::InvalidArgumentError("expected leeway >= 0");
  int64_t limit = 0;
  if (__builtin_add_overflow(length, a[3].as_int(), &limit) ||
      static_cast<int64_t>(s.size()) <= limit) {
    return Str(EncodeCodepoints(s));
  }
  std::u32string head = s.substr(0, static_cast<size_t>(length) - end.size());
  if (!a[1].Truthy()) {
    const size_t space = head.rfind(U' ');
    if (space != std::u32string::npos) head.resize(space);
  }
  return Str(EncodeCodepoints(head + end));
}

absl::StatusOr<Value> ToJson(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("tojson", args,
                                           {{"ensure_ascii", Value::Bool(false)},
                                            {"indent", Value::None()},
                                            {"separators", Value::None()},
                                            {"sort_keys", Value::Bool(false)}}));
  JsonDumpOptions options;
  options.ensure_ascii = a[0].Truthy();
  if (a[1].is_string()) {
    options.indent = a[1].str();
  } else if (a[1].is_int() || a[1].is_bool()) {
    STRIDE_RETURN_IF_ERROR(ctx.CheckSize(static_cast<size_t>(std::max<int64_t>(0, a[1].as_int()))));
    options.indent = std::string(static_cast<size_t>(std::max<int64_t>(0, a[1].as_int())), ' ');
  } else if (!a[1].is_none()) {
    return TypeError("indent must be an int, a str or None");
  }
  if (!a[2].is_none()) {
    if (!a[2].is_list() || a[2].is_iterator() || a[2].items().size() != 2 ||
        !a[2].items()[0].is_string() || !a[2].items()[1].is_string()) {
      return TypeError("separators must be a pair of strings");
    }
    options.item_separator = a[2].items()[0].str();
    options.key_separator = a[2].items()[1].str();
  }
  options.sort_keys = a[3].Truthy();
  STRIDE_RETURN_IF_ERROR(ctx.Charge(1 + v.depth()));
  STRIDE_ASSIGN_OR_RETURN(std::string out, DumpJson(v, options));
  STRIDE_RETURN_IF_ERROR(ctx.CheckSize(out.size()));
  STRIDE_RETURN_IF_ERROR(ctx.Charge(static_cast<int64_t>(out.size() / 64)));
  return Str(std::move(out));
}

absl::StatusOr<Value> Int(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(
      auto a, BindArgs("int", args, {{"default", Value::Int(0)}, {"base", Value::Int(10)}}));
  if (v.is_undefined()) return UndefinedError(v);
  if (v.is_int() || v.is_bool()) return Value::Int(v.as_int());
  if (v.is_float()) {
    const double d = v.as_float();
    if (std::isnan(d) || std::isinf(d) || std::fabs(d) >= 9.2e18) return a[0];
    return Value::Int(static_cast<int64_t>(d));
  }
  if (v.is_string()) {
    STRIDE_RETURN_IF_ERROR(NeedInt(a[1]));
    const int64_t base = a[1].as_int();
    int64_t out = 0;
    if (base >= 2 && base <= 36 && ParseIntText(v.str(), static_cast<int>(base), &out)) {
      return Value::Int(out);
    }
    double d = 0;
    if (ParseFloatText(v.str(), &d) && std::isfinite(d) && std::fabs(d) < 9.2e18) {
      return Value::Int(static_cast<int64_t>(d));
    }
  }
  return a[0];
}

absl::StatusOr<Value> Float(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("float", args, {{"default", Value::Float(0.0)}}));
  if (v.is_undefined()) return UndefinedError(v);
  if (v.is_number()) return Value::Float(v.as_number());
  double d = 0;
  if (v.is_string() && ParseFloatText(v.str(), &d)) return Value::Float(d);
  return a[0];
}

absl::StatusOr<Value> Abs(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("abs", args, {}).status());
  if (v.is_float()) return Value::Float(std::fabs(v.as_float()));
  if (v.is_int() || v.is_bool()) {
    if (v.as_int() == INT64_MIN)
      return absl::InvalidArgumentError("OverflowError: integer overflow");
    return Value::Int(v.as_int() < 0 ? -v.as_int() : v.as_int());
  }
  return TypeError(absl::StrCat("bad operand type for abs(): '", TypeName(v), "'"));
}

absl::StatusOr<Value> Round(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(
      auto a, BindArgs("round", args, {{"precision", Value::Int(0)}, {"method", Str("common")}}));
  const std::string method = PyStr(a[1]);
  if (method != "common" && method != "ceil" && method != "floor") {
    return absl::InvalidArgumentError("FilterArgumentError: method must be common, ceil or floor");
  }
  if (!v.is_number()) {
    return TypeError(absl::StrCat("type ", TypeName(v), " doesn't define __round__ method"));
  }
  STRIDE_RETURN_IF_ERROR(NeedInt(a[0]));
  const int64_t precision = std::clamp<int64_t>(a[0].as_int(), -400, 400);
  if (method != "common") {
    const double scale = std::pow(10.0, static_cast<double>(precision));
    const double x = v.as_number() * scale;
    const double r = method == "ceil" ? std::ceil(x) : std::floor(x);
    return Value::Float(r / scale);
  }
  if (!v.is_float()) {
    if (precision >= 0) return Value::Int(v.as_int());
    return Value::Int(RoundIntHalfEven(v.as_int(), -precision));
  }
  const double x = v.as_float();
  if (!std::isfinite(x)) return Value::Float(x);
  if (precision >= 0) {
    // printf rounds the exact binary value half-to-even, as Python's round() does.
    char buf[512];
    std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(std::min<int64_t>(precision, 300)), x);
    return Value::Float(std::strtod(buf, nullptr));
  }
  const double scale = std::pow(10.0, static_cast<double>(-precision));
  return Value::Float(std::nearbyint(x / scale) * scale);
}

absl::StatusOr<Value> Default(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(
      auto a,
      BindArgs("default", args, {{"default_value", Str("")}, {"boolean", Value::Bool(false)}}));
  if (v.is_undefined() || (a[1].Truthy() && !v.Truthy())) return a[0];
  return v;
}

}  // namespace stride::engine::text::jinja::filters
