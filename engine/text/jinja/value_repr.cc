#include "engine/text/jinja/value_repr.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "engine/text/jinja/unicode.h"

namespace stride::engine::text::jinja {

std::string PyFloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  // Shortest round-trip digits in scientific form: "-1.2345e+02".
  auto result = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, result.ptr);
  bool negative = false;
  if (!sci.empty() && sci[0] == '-') {
    negative = true;
    sci.erase(0, 1);
  }
  const size_t e = sci.find('e');
  std::string digits;
  for (size_t i = 0; i < e; ++i) {
    if (sci[i] != '.') digits.push_back(sci[i]);
  }
  const int exponent = std::atoi(sci.c_str() + e + 1);
  std::string out = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out += "0.";
      out.append(static_cast<size_t>(-exponent - 1), '0');
      out += digits;
    } else if (static_cast<int>(digits.size()) <= exponent + 1) {
      out += digits;
      out.append(static_cast<size_t>(exponent + 1 - static_cast<int>(digits.size())), '0');
      out += ".0";
    } else {
      out += digits.substr(0, exponent + 1);
      out += ".";
      out += digits.substr(exponent + 1);
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) {
    out += ".";
    out += digits.substr(1);
  }
  char exp_buf[16];
  std::snprintf(exp_buf, sizeof(exp_buf), "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  out += exp_buf;
  return out;
}

std::string PyStringRepr(std::string_view s) {
  const std::u32string cps = DecodeCodepoints(s);
  bool has_single = false;
  bool has_double = false;
  for (char32_t cp : cps) {
    has_single |= cp == '\'';
    has_double |= cp == '"';
  }
  const char32_t quote = (has_single && !has_double) ? '"' : '\'';
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back(static_cast<char>(quote));
  for (char32_t cp : cps) {
    char buf[16];
    if (cp == quote || cp == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(cp));
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp < 0x20 || cp == 0x7F) {
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(cp));
      out += buf;
    } else if (cp < 0x7F || IsPrintable(cp)) {
      AppendCodepoint(cp, &out);
    } else if (cp <= 0xFF) {
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(cp));
      out += buf;
    } else if (cp <= 0xFFFF) {
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(cp));
      out += buf;
    } else {
      std::snprintf(buf, sizeof(buf), "\\U%08x", static_cast<unsigned>(cp));
      out += buf;
    }
  }
  out.push_back(static_cast<char>(quote));
  return out;
}

void AppendPyStr(const Value& v, std::string* out) {
  switch (v.kind()) {
    case ValueKind::kUndefined:
      return;
    case ValueKind::kString:
      out->append(v.str());
      return;
    default:
      AppendPyRepr(v, out);
  }
}

std::string PyStr(const Value& v) {
  if (v.is_string()) return v.str();
  std::string out;
  AppendPyStr(v, &out);
  return out;
}

void AppendPyRepr(const Value& v, std::string* out) {
  switch (v.kind()) {
    case ValueKind::kUndefined:
      out->append("Undefined");
      return;
    case ValueKind::kNone:
      out->append("None");
      return;
    case ValueKind::kBool:
      out->append(v.as_bool() ? "True" : "False");
      return;
    case ValueKind::kInt:
      absl::StrAppend(out, v.as_int());
      return;
    case ValueKind::kFloat:
      out->append(PyFloatRepr(v.as_float()));
      return;
    case ValueKind::kString:
      out->append(PyStringRepr(v.str()));
      return;
    case ValueKind::kList: {
      if (v.is_iterator()) {
        out->append("<generator object>");
        return;
      }
      const bool tuple = v.is_tuple();
      out->push_back(tuple ? '(' : '[');
      const auto& items = v.items();
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out->append(", ");
        AppendPyRepr(items[i], out);
      }
      if (tuple && items.size() == 1) out->push_back(',');
      out->push_back(tuple ? ')' : ']');
      return;
    }
    case ValueKind::kDict: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, value] : v.dict().entries()) {
        if (!first) out->append(", ");
        first = false;
        AppendPyRepr(key, out);
        out->append(": ");
        AppendPyRepr(value, out);
      }
      out->push_back('}');
      return;
    }
    case ValueKind::kNamespace:
      // jinja2 prints the attributes too; they can change after the namespace was put into a
      // container, so printing them would escape the size bound of Value::weight().
      out->append("<Namespace>");
      return;
    case ValueKind::kCallable:
      absl::StrAppend(out, "<", v.callable().name(), ">");
      return;
    case ValueKind::kLoop:
      absl::StrAppend(out, "<LoopContext ", v.loop().index0 + 1, "/", v.loop().length(), ">");
      return;
  }
}

std::string PyRepr(const Value& v) {
  std::string out;
  AppendPyRepr(v, &out);
  return out;
}

}  // namespace stride::engine::text::jinja
