#include "engine/text/jinja/operators.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/text/jinja/unicode.h"
#include "engine/text/jinja/value_repr.h"

namespace stride::engine::text::jinja {
namespace {

const char* OpSymbol(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kFloorDiv:
      return "//";
    case BinaryOp::kMod:
      return "%";
    case BinaryOp::kPow:
      return "** or pow()";
  }
  return "?";
}

absl::Status Unsupported(BinaryOp op, const Value& a, const Value& b) {
  return TypeError(absl::StrCat("unsupported operand type(s) for ", OpSymbol(op), ": '",
                                TypeName(a), "' and '", TypeName(b), "'"));
}

absl::Status Overflow() { return absl::InvalidArgumentError("OverflowError: integer overflow"); }

absl::StatusOr<Value> Repeat(EvalContext& ctx, const Value& seq, int64_t times) {
  if (times <= 0) return seq.is_string() ? Value::String("") : Value::List({}, seq.is_tuple());
  const size_t unit = seq.is_string() ? seq.str().size() : seq.items().size();
  if (unit != 0 && static_cast<uint64_t>(times) > (size_t{1} << 40) / unit) {
    return ctx.CheckSize(std::numeric_limits<size_t>::max());
  }
  STRIDE_RETURN_IF_ERROR(ctx.CheckSize(unit * static_cast<size_t>(times)));
  STRIDE_RETURN_IF_ERROR(ctx.Charge(static_cast<int64_t>(unit * static_cast<size_t>(times)) / 64));
  if (seq.is_string()) {
    std::string out;
    out.reserve(unit * times);
    for (int64_t i = 0; i < times; ++i) out += seq.str();
    return Value::String(std::move(out));
  }
  std::vector<Value> out;
  out.reserve(unit * times);
  for (int64_t i = 0; i < times; ++i) out.insert(out.end(), seq.items().begin(), seq.items().end());
  return Value::List(std::move(out), seq.is_tuple());
}

absl::StatusOr<Value> IntPower(int64_t base, int64_t exp) {
  int64_t result = 1;
  while (exp > 0) {
    if (exp & 1) {
      if (__builtin_mul_overflow(result, base, &result)) return Overflow();
    }
    exp >>= 1;
    if (exp > 0 && __builtin_mul_overflow(base, base, &base)) return Overflow();
  }
  return Value::Int(result);
}

absl::StatusOr<Value> Arithmetic(BinaryOp op, const Value& a, const Value& b) {
  if (a.is_float() || b.is_float()) {
    const double x = a.as_number();
    const double y = b.as_number();
    switch (op) {
      case BinaryOp::kAdd:
        return Value::Float(x + y);
      case BinaryOp::kSub:
        return Value::Float(x - y);
      case BinaryOp::kMul:
        return Value::Float(x * y);
      case BinaryOp::kDiv:
        if (y == 0) return absl::InvalidArgumentError("ZeroDivisionError: float division by zero");
        return Value::Float(x / y);
      case BinaryOp::kFloorDiv:
        if (y == 0) {
          return absl::InvalidArgumentError("ZeroDivisionError: float floor division by zero");
        }
        return Value::Float(std::floor(x / y));
      case BinaryOp::kMod: {
        if (y == 0) return absl::InvalidArgumentError("ZeroDivisionError: float modulo");
        double m = std::fmod(x, y);
        if (m != 0 && ((m < 0) != (y < 0))) m += y;
        if (m == 0) m = std::copysign(0.0, y);
        return Value::Float(m);
      }
      case BinaryOp::kPow:
        if (x == 0 && y < 0) {
          return absl::InvalidArgumentError(
              "ZeroDivisionError: 0.0 cannot be raised to a negative power");
        }
        return Value::Float(std::pow(x, y));
    }
  }
  const int64_t x = a.as_int();
  const int64_t y = b.as_int();
  int64_t r = 0;
  switch (op) {
    case BinaryOp::kAdd:
      if (__builtin_add_overflow(x, y, &r)) return Overflow();
      return Value::Int(r);
    case BinaryOp::kSub:
      if (__builtin_sub_overflow(x, y, &r)) return Overflow();
      return Value::Int(r);
    case BinaryOp::kMul:
      if (__builtin_mul_overflow(x, y, &r)) return Overflow();
      return Value::Int(r);
    case BinaryOp::kDiv:
      if (y == 0) return absl::InvalidArgumentError("ZeroDivisionError: division by zero");
      return Value::Float(static_cast<double>(x) / static_cast<double>(y));
    case BinaryOp::kFloorDiv:
    case BinaryOp::kMod: {
      if (y == 0) {
        return absl::InvalidArgumentError("ZeroDivisionError: integer division or modulo by zero");
      }
      if (x == std::numeric_limits<int64_t>::min() && y == -1) {
        if (op == BinaryOp::kMod) return Value::Int(0);
        return Overflow();
      }
      int64_t q = x / y;
      int64_t m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        q -= 1;
        m += y;
      }
      return Value::Int(op == BinaryOp::kFloorDiv ? q : m);
    }
    case BinaryOp::kPow:
      if (y < 0) {
        if (x == 0) {
          return absl::InvalidArgumentError(
              "ZeroDivisionError: 0.0 cannot be raised to a negative power");
        }
        return Value::Float(std::pow(static_cast<double>(x), static_cast<double>(y)));
      }
      return IntPower(x, y);
  }
  return Value::None();
}

}  // namespace

absl::StatusOr<Value> BinaryOperation(EvalContext& ctx, BinaryOp op, const Value& a,
                                      const Value& b) {
  if (a.is_undefined()) return UndefinedError(a);
  if (b.is_undefined()) return UndefinedError(b);
  if (a.is_number() && b.is_number()) return Arithmetic(op, a, b);
  switch (op) {
    case BinaryOp::kAdd:
      if (a.is_string() && b.is_string()) {
        STRIDE_RETURN_IF_ERROR(ctx.CheckSize(a.str().size() + b.str().size()));
        return Value::String(a.str() + b.str());
      }
      if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple() && !a.is_iterator() &&
          !b.is_iterator()) {
        STRIDE_RETURN_IF_ERROR(ctx.CheckSize(a.items().size() + b.items().size()));
        std::vector<Value> items = a.items();
        items.insert(items.end(), b.items().begin(), b.items().end());
        return Value::List(std::move(items), a.is_tuple());
      }
      if (a.is_string() || a.is_list()) {
        return TypeError(absl::StrCat("can only concatenate ", TypeName(a), " (not \"", TypeName(b),
                                      "\") to ", TypeName(a)));
      }
      break;
    case BinaryOp::kMul:
      if (a.is_iterator() || b.is_iterator()) break;
      if ((a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) {
        return Repeat(ctx, a, b.as_int());
      }
      if ((b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) {
        return Repeat(ctx, b, a.as_int());
      }
      if (a.is_string() || a.is_list() || b.is_string() || b.is_list()) {
        return TypeError(absl::StrCat("can't multiply sequence by non-int of type '",
                                      TypeName(a.is_string() || a.is_list() ? b : a), "'"));
      }
      break;
    case BinaryOp::kMod:
      if (a.is_string()) {
        STRIDE_ASSIGN_OR_RETURN(std::string s, PercentFormat(a.str(), b));
        STRIDE_RETURN_IF_ERROR(ctx.CheckSize(s.size()));
        return Value::String(std::move(s));
      }
      break;
    default:
      break;
  }
  return Unsupported(op, a, b);
}

absl::StatusOr<Value> Negate(const Value& v) {
  if (v.is_undefined()) return UndefinedError(v);
  if (v.is_float()) return Value::Float(-v.as_float());
  if (v.is_int() || v.is_bool()) {
    if (v.as_int() == std::numeric_limits<int64_t>::min()) return Overflow();
    return Value::Int(-v.as_int());
  }
  return TypeError(absl::StrCat("bad operand type for unary -: '", TypeName(v), "'"));
}

absl::StatusOr<int> ThreeWayCompare(const Value& a, const Value& b) {
  if (a.is_undefined()) return UndefinedError(a);
  if (b.is_undefined()) return UndefinedError(b);
  if (a.is_number() && b.is_number()) {
    if (!a.is_float() && !b.is_float()) {
      return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
    }
    const double x = a.as_number();
    const double y = b.as_number();
    return x < y ? -1 : x > y ? 1 : 0;  // NaN compares equal here; Python says all false
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.str().compare(b.str());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple() && !a.is_iterator() &&
      !b.is_iterator()) {
    const auto& x = a.items();
    const auto& y = b.items();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!Equals(x[i], y[i])) return ThreeWayCompare(x[i], y[i]);
    }
    return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  }
  return TypeError(absl::StrCat("'<' not supported between instances of '", TypeName(a), "' and '",
                                TypeName(b), "'"));
}

absl::StatusOr<bool> Contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case ValueKind::kUndefined:
      return false;
    case ValueKind::kString:
      if (!item.is_string()) {
        return TypeError(
            absl::StrCat("'in <string>' requires string as left operand, not ", TypeName(item)));
      }
      return container.str().find(item.str()) != std::string::npos;
    case ValueKind::kList:
      for (const Value& v : container.items()) {
        if (Equals(v, item)) return true;
      }
      return false;
    case ValueKind::kDict:
      if (item.is_list() && !item.is_tuple()) return TypeError("unhashable type: 'list'");
      if (item.is_dict()) return TypeError("unhashable type: 'dict'");
      return container.dict().Find(item) != nullptr;
    default:
      return TypeError(
          absl::StrCat("argument of type '", TypeName(container), "' is not iterable"));
  }
}

absl::StatusOr<bool> Compare(CompareOp op, const Value& a, const Value& b) {
  switch (op) {
    case CompareOp::kEq:
      return Equals(a, b);
    case CompareOp::kNe:
      return !Equals(a, b);
    case CompareOp::kIn:
      return Contains(b, a);
    case CompareOp::kNotIn: {
      STRIDE_ASSIGN_OR_RETURN(bool in, Contains(b, a));
      return !in;
    }
    default:
      break;
  }
  if (a.is_number() && b.is_number() && (std::isnan(a.as_number()) || std::isnan(b.as_number()))) {
    return false;
  }
  auto c = ThreeWayCompare(a, b);
  if (!c.ok()) {
    const char* sym = op == CompareOp::kLt   ? "<"
                      : op == CompareOp::kLe ? "<="
                      : op == CompareOp::kGt ? ">"
                                             : ">=";
    if (a.is_undefined() || b.is_undefined()) return c.status();
    return TypeError(absl::StrCat("'", sym, "' not supported between instances of '", TypeName(a),
                                  "' and '", TypeName(b), "'"));
  }
  switch (op) {
    case CompareOp::kLt:
      return *c < 0;
    case CompareOp::kLe:
      return *c <= 0;
    case CompareOp::kGt:
      return *c > 0;
    case CompareOp::kGe:
      return *c >= 0;
    default:
      return false;
  }
}

absl::StatusOr<Value> ToList(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kList:
      if (!v.is_tuple() && !v.is_iterator()) return v;
      return Value::List(v.items());
    case ValueKind::kUndefined:
      return Value::List({});
    case ValueKind::kDict: {
      std::vector<Value> keys;
      keys.reserve(v.dict().size());
      for (const auto& [key, value] : v.dict().entries()) keys.push_back(key);
      return Value::List(std::move(keys));
    }
    case ValueKind::kString: {
      std::vector<Value> chars;
      for (char32_t cp : DecodeCodepoints(v.str())) {
        std::string c;
        AppendCodepoint(cp, &c);
        chars.push_back(Value::String(std::move(c)));
      }
      return Value::List(std::move(chars));
    }
    default:
      return TypeError(absl::StrCat("'", TypeName(v), "' object is not iterable"));
  }
}

absl::StatusOr<std::string> PercentFormat(const std::string& format, const Value& args) {
  std::vector<Value> values;
  if (args.is_tuple()) {
    values = args.items();
  } else {
    values.push_back(args);
  }
  const bool mapping = args.is_dict();
  size_t next = 0;
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out.push_back(format[i]);
      continue;
    }
    if (++i >= format.size()) return absl::InvalidArgumentError("ValueError: incomplete format");
    std::string spec = "%";
    while (i < format.size() && std::string_view("-+ #0").find(format[i]) != std::string::npos) {
      spec.push_back(format[i++]);
    }
    auto digits = [&] {
      while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) {
        spec.push_back(format[i++]);
      }
    };
    digits();  // width
    if (i < format.size() && format[i] == '.') {
      spec.push_back(format[i++]);
      digits();  // precision
    }
    if (i >= format.size()) return absl::InvalidArgumentError("ValueError: incomplete format");
    const char conv = format[i];
    if (conv == '%') {
      out.push_back('%');
      continue;
    }
    if (spec.size() > 12) return absl::InvalidArgumentError("ValueError: format spec too long");
    if (next >= values.size() || mapping) {
      return TypeError("not enough arguments for format string");
    }
    const Value& v = values[next++];
    char buf[512];
    switch (conv) {
      case 's':
      case 'r': {
        const std::string text = conv == 's' ? PyStr(v) : PyRepr(v);
        if (spec == "%") {
          out += text;
        } else {
          std::snprintf(buf, sizeof(buf), (spec + "s").c_str(), text.c_str());
          out += buf;
        }
        break;
      }
      case 'd':
      case 'i':
      case 'x':
      case 'X':
      case 'o': {
        if (!v.is_number()) {
          return TypeError(absl::StrCat("%", std::string(1, conv),
                                        " format: a real number is required, not ", TypeName(v)));
        }
        if (v.is_float() && !(std::fabs(v.as_float()) < 9.2e18)) {
          return absl::InvalidArgumentError("OverflowError: cannot convert float to integer");
        }
        const long long n = v.is_float() ? static_cast<long long>(v.as_float()) : v.as_int();
        std::snprintf(buf, sizeof(buf), (spec + "ll" + (conv == 'i' ? 'd' : conv)).c_str(), n);
        out += buf;
        break;
      }
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G': {
        if (!v.is_number()) {
          return TypeError(absl::StrCat("must be real number, not ", TypeName(v)));
        }
        std::snprintf(buf, sizeof(buf), (spec + conv).c_str(), v.as_number());
        out += buf;
        break;
      }
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("ValueError: unsupported format character '", std::string(1, conv), "'"));
    }
  }
  if (next < values.size() && !mapping) {
    return TypeError("not all arguments converted during string formatting");
  }
  return out;
}

}  // namespace stride::engine::text::jinja
