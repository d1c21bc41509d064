#include "engine/text/jinja/string_ops.h"

#include <algorithm>
#include <cstdio>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/text/jinja/attributes.h"
#include "engine/text/jinja/unicode.h"
#include "engine/text/jinja/value_repr.h"

namespace stride::engine::text::jinja {

std::vector<std::string> SplitWhitespace(std::string_view s, int64_t maxsplit, bool from_right) {
  const std::u32string cps = DecodeCodepoints(s);
  const size_t n = cps.size();
  std::vector<std::string> parts;
  auto piece = [&](size_t a, size_t b) {
    return EncodeCodepoints(std::u32string_view(cps.data() + a, b - a));
  };
  if (!from_right) {
    size_t i = 0;
    while (true) {
      while (i < n && IsPyWhitespace(cps[i])) ++i;
      if (i == n) break;
      if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit) {
        parts.push_back(piece(i, n));
        break;
      }
      size_t j = i;
      while (j < n && !IsPyWhitespace(cps[j])) ++j;
      parts.push_back(piece(i, j));
      i = j;
    }
    return parts;
  }
  size_t j = n;
  while (true) {
    while (j > 0 && IsPyWhitespace(cps[j - 1])) --j;
    if (j == 0) break;
    if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit) {
      parts.push_back(piece(0, j));
      break;
    }
    size_t i = j;
    while (i > 0 && !IsPyWhitespace(cps[i - 1])) --i;
    parts.push_back(piece(i, j));
    j = i;
  }
  std::reverse(parts.begin(), parts.end());
  return parts;
}

std::vector<std::string> SplitOn(std::string_view s, std::string_view sep, int64_t maxsplit,
                                 bool from_right) {
  std::vector<std::string> parts;
  if (!from_right) {
    size_t start = 0;
    while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
      const size_t pos = s.find(sep, start);
      if (pos == std::string_view::npos) break;
      parts.emplace_back(s.substr(start, pos - start));
      start = pos + sep.size();
    }
    parts.emplace_back(s.substr(start));
    return parts;
  }
  size_t end = s.size();
  while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
    if (end < sep.size()) break;
    const size_t pos = s.rfind(sep, end - sep.size());
    if (pos == std::string_view::npos) break;
    parts.emplace_back(s.substr(pos + sep.size(), end - pos - sep.size()));
    end = pos;
  }
  parts.emplace_back(s.substr(0, end));
  std::reverse(parts.begin(), parts.end());
  return parts;
}

std::vector<std::string> SplitLines(std::string_view s, bool keepends) {
  const std::u32string cps = DecodeCodepoints(s);
  std::vector<std::string> lines;
  size_t start = 0;
  size_t i = 0;
  while (i < cps.size()) {
    const char32_t c = cps[i];
    const bool is_break = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C ||
                          c == 0x1D || c == 0x1E || c == 0x85 || c == 0x2028 || c == 0x2029;
    if (!is_break) {
      ++i;
      continue;
    }
    size_t end = i + 1;
    if (c == '\r' && end < cps.size() && cps[end] == '\n') ++end;
    lines.push_back(
        EncodeCodepoints(std::u32string_view(cps.data() + start, (keepends ? end : i) - start)));
    start = i = end;
  }
  if (start < cps.size()) {
    lines.push_back(EncodeCodepoints(std::u32string_view(cps.data() + start, cps.size() - start)));
  }
  return lines;
}

std::string PyStrip(std::string_view s, const std::string* chars, bool left, bool right) {
  const std::u32string cps = DecodeCodepoints(s);
  absl::flat_hash_set<char32_t> set;
  if (chars != nullptr) {
    for (char32_t cp : DecodeCodepoints(*chars)) set.insert(cp);
  }
  auto strip = [&](char32_t cp) {
    return chars == nullptr ? IsPyWhitespace(cp) : set.contains(cp);
  };
  size_t lo = 0;
  size_t hi = cps.size();
  if (left) {
    while (lo < hi && strip(cps[lo])) ++lo;
  }
  if (right) {
    while (hi > lo && strip(cps[hi - 1])) --hi;
  }
  return EncodeCodepoints(std::u32string_view(cps.data() + lo, hi - lo));
}

std::string PyTitle(std::string_view s) {
  std::string out;
  bool previous_cased = false;
  for (char32_t cp : DecodeCodepoints(s)) {
    AppendCodepoint(previous_cased ? ToLower(cp) : ToUpper(cp), &out);
    previous_cased = IsCased(cp);
  }
  return out;
}

std::string PyCapitalize(std::string_view s) {
  std::string out;
  bool first = true;
  for (char32_t cp : DecodeCodepoints(s)) {
    AppendCodepoint(first ? ToUpper(cp) : ToLower(cp), &out);
    first = false;
  }
  return out;
}

absl::StatusOr<std::string> PyReplace(EvalContext& ctx, std::string_view s, std::string_view old,
                                      std::string_view replacement, int64_t count) {
  std::string out;
  if (old.empty()) {
    const std::u32string cps = DecodeCodepoints(s);
    int64_t done = 0;
    STRIDE_RETURN_IF_ERROR(ctx.CheckSize(s.size() + (cps.size() + 1) * replacement.size()));
    for (size_t i = 0; i <= cps.size(); ++i) {
      if (count < 0 || done < count) {
        out.append(replacement);
        ++done;
      }
      if (i < cps.size()) AppendCodepoint(cps[i], &out);
    }
    return out;
  }
  size_t start = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    const size_t pos = s.find(old, start);
    if (pos == std::string_view::npos) break;
    out.append(s.substr(start, pos - start));
    out.append(replacement);
    STRIDE_RETURN_IF_ERROR(ctx.CheckSize(out.size()));
    start = pos + old.size();
    ++done;
  }
  out.append(s.substr(start));
  STRIDE_RETURN_IF_ERROR(ctx.CheckSize(out.size()));
  return out;
}

std::string PyPad(std::string_view s, int64_t width, std::string_view fill, int mode) {
  const int64_t n = static_cast<int64_t>(CodepointCount(s));
  const int64_t marg = width - n;
  if (marg <= 0) return std::string(s);
  int64_t left = mode < 0 ? 0 : mode > 0 ? marg : marg / 2 + (marg & width & 1);
  std::string out;
  for (int64_t i = 0; i < left; ++i) out.append(fill);
  out.append(s);
  for (int64_t i = left; i < marg; ++i) out.append(fill);
  return out;
}

namespace {

// Applies a format spec [[fill]align][width][.precision][type] to one value.
absl::StatusOr<std::string> ApplySpec(const Value& v, std::string_view spec) {
  if (spec.empty()) return PyStr(v);
  size_t i = 0;
  std::string fill = " ";
  char align = 0;
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^'; };
  if (spec.size() >= 2 && is_align(spec[1])) {
    fill = std::string(1, spec[0]);
    align = spec[1];
    i = 2;
  } else if (is_align(spec[0])) {
    align = spec[0];
    i = 1;
  }
  int64_t width = 0;
  while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i])) && width < 100000) {
    width = width * 10 + (spec[i++] - '0');
  }
  int precision = -1;
  if (i < spec.size() && spec[i] == '.') {
    precision = 0;
    ++i;
    while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i])) &&
           precision < 100) {
      precision = precision * 10 + (spec[i++] - '0');
    }
  }
  const char type = i < spec.size() ? spec[i++] : 0;
  if (i != spec.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("ValueError: unsupported format spec '", std::string(spec), "'"));
  }
  std::string text;
  if (type == 'f' || type == 'F' || type == 'e' || type == 'g' || type == '%') {
    if (!v.is_number()) {
      return absl::InvalidArgumentError(absl::StrCat("ValueError: Unknown format code '",
                                                     std::string(1, type), "' for object of type '",
                                                     TypeName(v), "'"));
    }
    char buf[512];
    const double x = type == '%' ? v.as_number() * 100 : v.as_number();
    std::snprintf(
        buf, sizeof(buf),
        absl::StrCat("%.", precision < 0 ? 6 : precision, std::string(1, type == '%' ? 'f' : type))
            .c_str(),
        x);
    text = buf;
    if (type == '%') text += "%";
  } else if (type == 'd') {
    if (!(v.is_int() || v.is_bool())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ValueError: Unknown format code 'd' for object of type '", TypeName(v), "'"));
    }
    text = absl::StrCat(v.as_int());
  } else if (type == 0 || type == 's') {
    text = PyStr(v);
    if (precision >= 0) {
      std::u32string cps = DecodeCodepoints(text);
      if (cps.size() > static_cast<size_t>(precision)) cps.resize(precision);
      text = EncodeCodepoints(cps);
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("ValueError: unsupported format spec '", std::string(spec), "'"));
  }
  if (align == 0) align = v.is_number() && !v.is_bool() ? '>' : '<';
  return PyPad(text, width, fill, align == '<' ? -1 : align == '>' ? 1 : 0);
}

}  // namespace

absl::StatusOr<std::string> PyStrFormat(EvalContext& ctx, std::string_view format,
                                        const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (c == '}') {
      if (i + 1 < format.size() && format[i + 1] == '}') {
        out.push_back('}');
        ++i;
        continue;
      }
      return absl::InvalidArgumentError("ValueError: Single '}' encountered in format string");
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    const size_t close = format.find('}', i);
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError("ValueError: Single '{' encountered in format string");
    }
    std::string_view field = format.substr(i + 1, close - i - 1);
    i = close;
    std::string_view spec;
    if (const size_t colon = field.find(':'); colon != std::string_view::npos) {
      spec = field.substr(colon + 1);
      field = field.substr(0, colon);
    }
    char conversion = 0;
    if (const size_t bang = field.find('!'); bang != std::string_view::npos) {
      if (bang + 2 != field.size()) {
        return absl::InvalidArgumentError("ValueError: expected ':' after conversion specifier");
      }
      conversion = field[bang + 1];
      field = field.substr(0, bang);
    }
    size_t name_end = 0;
    while (name_end < field.size() && field[name_end] != '.' && field[name_end] != '[') ++name_end;
    const std::string_view name = field.substr(0, name_end);
    Value value;
    if (name.empty() || std::all_of(name.begin(), name.end(), [](char d) {
          return std::isdigit(static_cast<unsigned char>(d));
        })) {
      const size_t index =
          name.empty() ? auto_index++ : std::strtoul(std::string(name).c_str(), nullptr, 10);
      if (index >= args.positional.size()) {
        return absl::InvalidArgumentError(absl::StrCat("IndexError: Replacement index ", index,
                                                       " out of range for positional args tuple"));
      }
      value = args.positional[index];
    } else {
      bool found = false;
      for (const auto& [key, v] : args.keyword) {
        if (key == name) {
          value = v;
          found = true;
        }
      }
      if (!found)
        return absl::InvalidArgumentError(absl::StrCat("KeyError: '", std::string(name), "'"));
    }
    // .attr and [key] lookups.
    size_t p = name_end;
    while (p < field.size()) {
      if (field[p] == '.') {
        size_t e = p + 1;
        while (e < field.size() && field[e] != '.' && field[e] != '[') ++e;
        STRIDE_ASSIGN_OR_RETURN(value, GetAttribute(value, field.substr(p + 1, e - p - 1)));
        p = e;
      } else {
        const size_t e = field.find(']', p);
        if (e == std::string_view::npos) {
          return absl::InvalidArgumentError("ValueError: Missing ']' in format string");
        }
        const std::string key(field.substr(p + 1, e - p - 1));
        const bool numeric = !key.empty() && std::all_of(key.begin(), key.end(), [](char d) {
          return std::isdigit(static_cast<unsigned char>(d));
        });
        STRIDE_ASSIGN_OR_RETURN(
            value, GetItem(value, numeric ? Value::Int(std::strtoll(key.c_str(), nullptr, 10))
                                          : Value::String(key)));
        p = e + 1;
      }
    }
    if (conversion == 'r') {
      value = Value::String(PyRepr(value));
    } else if (conversion == 's') {
      value = Value::String(PyStr(value));
    } else if (conversion != 0) {
      return absl::InvalidArgumentError("ValueError: Unknown conversion specifier");
    }
    STRIDE_ASSIGN_OR_RETURN(std::string text, ApplySpec(value, spec));
    out += text;
    STRIDE_RETURN_IF_ERROR(ctx.CheckSize(out.size()));
  }
  return out;
}

}  // namespace stride::engine::text::jinja
