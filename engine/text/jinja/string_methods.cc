// Python str methods, by code point: startswith/endswith, split/rsplit/splitlines, strip family,
// case changes, find/count/replace, join, format and the is* predicates.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/text/jinja/args.h"
#include "engine/text/jinja/attributes.h"
#include "engine/text/jinja/methods.h"
#include "engine/text/jinja/string_ops.h"
#include "engine/text/jinja/unicode.h"
#include "engine/text/jinja/value_repr.h"

namespace stride::engine::text::jinja {
namespace {

using Method = absl::StatusOr<Value> (*)(EvalContext&, const Value&, const CallArgs&);

Value Str(std::string s) { return Value::String(std::move(s)); }

absl::Status ExpectString(std::string_view method, const Value& v) {
  if (v.is_string()) return absl::OkStatus();
  return TypeError(absl::StrCat(std::string(method), "() argument must be str, not ", TypeName(v)));
}

// Resolves Python's optional start/end arguments to a code point range of `cps`.
void ClampRange(const Value& start, const Value& end, size_t n, size_t* lo, size_t* hi) {
  auto norm = [n](const Value& v, size_t if_none) -> size_t {
    if (!(v.is_int() || v.is_bool())) return if_none;
    int64_t i = v.as_int();
    if (i < 0) i = std::max<int64_t>(0, i + static_cast<int64_t>(n));
    return std::min<size_t>(static_cast<size_t>(i), n);
  };
  *lo = norm(start, 0);
  *hi = norm(end, n);
}

absl::StatusOr<Value> AffixTest(const Value& self, const CallArgs& args, bool prefix) {
  const char* name = prefix ? "startswith" : "endswith";
  STRIDE_ASSIGN_OR_RETURN(
      auto a, BindArgs(name, args, {{"affix"}, {"start", Value::None()}, {"end", Value::None()}}));
  std::vector<Value> candidates;
  if (a[0].is_tuple()) {
    candidates = a[0].items();
  } else if (a[0].is_string()) {
    candidates.push_back(a[0]);
  } else {
    return TypeError(
        absl::StrCat(name, " first arg must be str or a tuple of str, not ", TypeName(a[0])));
  }
  const std::u32string cps = DecodeCodepoints(self.str());
  size_t lo, hi;
  ClampRange(a[1], a[2], cps.size(), &lo, &hi);
  if (lo > hi) return Value::Bool(false);
  const std::u32string_view range(cps.data() + lo, hi - lo);
  for (const Value& c : candidates) {
    if (!c.is_string())
      return TypeError(absl::StrCat("tuple for ", name, " must only contain str"));
    const std::u32string affix = DecodeCodepoints(c.str());
    if (affix.size() > range.size()) continue;
    if (prefix ? range.substr(0, affix.size()) == affix
               : range.substr(range.size() - affix.size()) == affix) {
      return Value::Bool(true);
    }
  }
  return Value::Bool(false);
}

absl::StatusOr<Value> StartsWith(EvalContext&, const Value& self, const CallArgs& args) {
  return AffixTest(self, args, true);
}
absl::StatusOr<Value> EndsWith(EvalContext&, const Value& self, const CallArgs& args) {
  return AffixTest(self, args, false);
}

absl::StatusOr<Value> SplitImpl(EvalContext& ctx, const Value& self, const CallArgs& args,
                                bool from_right) {
  const char* name = from_right ? "rsplit" : "split";
  STRIDE_ASSIGN_OR_RETURN(
      auto a, BindArgs(name, args, {{"sep", Value::None()}, {"maxsplit", Value::Int(-1)}}));
  if (!a[1].is_int() && !a[1].is_bool()) {
    return TypeError(
        absl::StrCat("'", TypeName(a[1]), "' object cannot be interpreted as an integer"));
  }
  std::vector<std::string> parts;
  if (a[0].is_none()) {
    parts = SplitWhitespace(self.str(), a[1].as_int(), from_right);
  } else {
    STRIDE_RETURN_IF_ERROR(ExpectString(name, a[0]));
    if (a[0].str().empty()) return absl::InvalidArgumentError("ValueError: empty separator");
    parts = SplitOn(self.str(), a[0].str(), a[1].as_int(), from_right);
  }
  STRIDE_RETURN_IF_ERROR(ctx.Charge(static_cast<int64_t>(parts.size())));
  std::vector<Value> items;
  items.reserve(parts.size());
  for (std::string& p : parts) items.push_back(Str(std::move(p)));
  return Value::List(std::move(items));
}

absl::StatusOr<Value> Split(EvalContext& ctx, const Value& self, const CallArgs& args) {
  return SplitImpl(ctx, self, args, false);
}
absl::StatusOr<Value> RSplit(EvalContext& ctx, const Value& self, const CallArgs& args) {
  return SplitImpl(ctx, self, args, true);
}

absl::StatusOr<Value> SplitLinesMethod(EvalContext& ctx, const Value& self, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("splitlines", args, {{"keepends", Value::Bool(false)}}));
  std::vector<Value> items;
  for (std::string& line : SplitLines(self.str(), a[0].Truthy()))
    items.push_back(Str(std::move(line)));
  return Value::List(std::move(items));
}

absl::StatusOr<Value> StripImpl(const Value& self, const CallArgs& args, const char* name,
                                bool left, bool right) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs(name, args, {{"chars", Value::None()}}));
  if (!a[0].is_none()) STRIDE_RETURN_IF_ERROR(ExpectString(name, a[0]));
  return Str(PyStrip(self.str(), a[0].is_none() ? nullptr : &a[0].str(), left, right));
}

absl::StatusOr<Value> Strip(EvalContext&, const Value& self, const CallArgs& args) {
  return StripImpl(self, args, "strip", true, true);
}
absl::StatusOr<Value> LStrip(EvalContext&, const Value& self, const CallArgs& args) {
  return StripImpl(self, args, "lstrip", true, false);
}
absl::StatusOr<Value> RStrip(EvalContext&, const Value& self, const CallArgs& args) {
  return StripImpl(self, args, "rstrip", false, true);
}

absl::StatusOr<Value> Upper(EvalContext&, const Value& self, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("upper", args, {}).status());
  return Str(PyUpper(self.str()));
}
absl::StatusOr<Value> Lower(EvalContext&, const Value& self, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("lower", args, {}).status());
  return Str(PyLower(self.str()));
}
absl::StatusOr<Value> Title(EvalContext&, const Value& self, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("title", args, {}).status());
  return Str(PyTitle(self.str()));
}
absl::StatusOr<Value> Capitalize(EvalContext&, const Value& self, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("capitalize", args, {}).status());
  return Str(PyCapitalize(self.str()));
}
absl::StatusOr<Value> SwapCase(EvalContext&, const Value& self, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("swapcase", args, {}).status());
  std::string out;
  for (char32_t cp : DecodeCodepoints(self.str())) {
    AppendCodepoint(IsUpperCase(cp) ? ToLower(cp) : IsLowerCase(cp) ? ToUpper(cp) : cp, &out);
  }
  return Str(std::move(out));
}

absl::StatusOr<Value> Replace(EvalContext& ctx, const Value& self, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a,
                          BindArgs("replace", args, {{"old"}, {"new"}, {"count", Value::Int(-1)}}));
  STRIDE_RETURN_IF_ERROR(ExpectString("replace", a[0]));
  STRIDE_RETURN_IF_ERROR(ExpectString("replace", a[1]));
  STRIDE_ASSIGN_OR_RETURN(std::string out, PyReplace(ctx, self.str(), a[0].str(), a[1].str(),
                                                     a[2].is_none() ? -1 : a[2].as_int()));
  return Str(std::move(out));
}

absl::StatusOr<Value> FindImpl(const Value& self, const CallArgs& args, const char* name,
                               bool from_right, bool raise) {
  STRIDE_ASSIGN_OR_RETURN(
      auto a, BindArgs(name, args, {{"sub"}, {"start", Value::None()}, {"end", Value::None()}}));
  STRIDE_RETURN_IF_ERROR(ExpectString(name, a[0]));
  const std::u32string cps = DecodeCodepoints(self.str());
  const std::u32string sub = DecodeCodepoints(a[0].str());
  size_t lo, hi;
  ClampRange(a[1], a[2], cps.size(), &lo, &hi);
  int64_t found = -1;
  if (lo <= hi && sub.size() <= hi - lo) {
    const std::u32string_view range(cps.data() + lo, hi - lo);
    const size_t pos = from_right ? range.rfind(sub) : range.find(sub);
    if (pos != std::u32string_view::npos) found = static_cast<int64_t>(lo + pos);
  }
  if (found < 0 && raise) return absl::InvalidArgumentError("ValueError: substring not found");
  return Value::Int(found);
}

absl::StatusOr<Value> Find(EvalContext&, const Value& self, const CallArgs& args) {
  return FindImpl(self, args, "find", false, false);
}
absl::StatusOr<Value> RFind(EvalContext&, const Value& self, const CallArgs& args) {
  return FindImpl(self, args, "rfind", true, false);
}
absl::StatusOr<Value> Index(EvalContext&, const Value& self, const CallArgs& args) {
  return FindImpl(self, args, "index", false, true);
}
absl::StatusOr<Value> RIndex(EvalContext&, const Value& self, const CallArgs& args) {
  return FindImpl(self, args, "rindex", true, true);
}

absl::StatusOr<Value> Count(EvalContext&, const Value& self, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(
      auto a, BindArgs("count", args, {{"sub"}, {"start", Value::None()}, {"end", Value::None()}}));
  STRIDE_RETURN_IF_ERROR(ExpectString("count", a[0]));
  const std::u32string cps = DecodeCodepoints(self.str());
  const std::u32string sub = DecodeCodepoints(a[0].str());
  size_t lo, hi;
  ClampRange(a[1], a[2], cps.size(), &lo, &hi);
  if (lo > hi) return Value::Int(0);
  if (sub.empty()) return Value::Int(static_cast<int64_t>(hi - lo + 1));
  const std::u32string_view range(cps.data() + lo, hi - lo);
  int64_t n = 0;
  for (size_t pos = range.find(sub); pos != std::u32string_view::npos;
       pos = range.find(sub, pos + sub.size())) {
    ++n;
  }
  return Value::Int(n);
}

absl::StatusOr<Value> Join(EvalContext& ctx, const Value& self, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("join", args, {{"iterable"}}));
  if (a[0].is_string()) {
    std::vector<Value> chars;
    for (char32_t cp : DecodeCodepoints(a[0].str())) {
      std::string c;
      AppendCodepoint(cp, &c);
      chars.push_back(Str(std::move(c)));
    }
    a[0] = Value::List(std::move(chars));
  } else if (a[0].is_dict()) {
    std::vector<Value> keys;
    for (const auto& [k, v] : a[0].dict().entries()) keys.push_back(k);
    a[0] = Value::List(std::move(keys));
  } else if (!a[0].is_list()) {
    return TypeError("can only join an iterable");
  }
  std::string out;
  const auto& items = a[0].items();
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_string()) {
      return TypeError(absl::StrCat("sequence item ", i, ": expected str instance, ",
                                    TypeName(items[i]), " found"));
    }
    if (i > 0) out += self.str();
    out += items[i].str();
    STRIDE_RETURN_IF_ERROR(ctx.CheckSize(out.size()));
  }
  return Str(std::move(out));
}

absl::StatusOr<Value> Format(EvalContext& ctx, const Value& self, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(std::string out, PyStrFormat(ctx, self.str(), args));
  return Str(std::move(out));
}

absl::StatusOr<Value> Pad(EvalContext& ctx, const Value& self, const CallArgs& args,
                          const char* name, int mode) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs(name, args, {{"width"}, {"fillchar", Str(" ")}}));
  if (!a[0].is_int() && !a[0].is_bool()) {
    return TypeError(
        absl::StrCat("'", TypeName(a[0]), "' object cannot be interpreted as an integer"));
  }
  if (!a[1].is_string() || CodepointCount(a[1].str()) != 1) {
    return TypeError("The fill character must be exactly one character long");
  }
  STRIDE_RETURN_IF_ERROR(ctx.CheckSize(static_cast<size_t>(std::max<int64_t>(0, a[0].as_int()))));
  return Str(PyPad(self.str(), a[0].as_int(), a[1].str(), mode));
}

absl::StatusOr<Value> Center(EvalContext& ctx, const Value& self, const CallArgs& args) {
  return Pad(ctx, self, args, "center", 0);
}
absl::StatusOr<Value> LJust(EvalContext& ctx, const Value& self, const CallArgs& args) {
  return Pad(ctx, self, args, "ljust", -1);
}
absl::StatusOr<Value> RJust(EvalContext& ctx, const Value& self, const CallArgs& args) {
  return Pad(ctx, self, args, "rjust", 1);
}

absl::StatusOr<Value> ZFill(EvalContext& ctx, const Value& self, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("zfill", args, {{"width"}}));
  if (!a[0].is_int()) return TypeError("zfill() argument must be int");
  STRIDE_RETURN_IF_ERROR(ctx.CheckSize(static_cast<size_t>(std::max<int64_t>(0, a[0].as_int()))));
  const std::string& s = self.str();
  const int64_t n = static_cast<int64_t>(CodepointCount(s));
  if (a[0].as_int() <= n) return self;
  std::string out;
  size_t body = 0;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    out.push_back(s[0]);
    body = 1;
  }
  out.append(static_cast<size_t>(a[0].as_int() - n), '0');
  out.append(s, body);
  return Str(std::move(out));
}

absl::StatusOr<Value> AffixRemove(const Value& self, const CallArgs& args, bool prefix) {
  const char* name = prefix ? "removeprefix" : "removesuffix";
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs(name, args, {{"affix"}}));
  STRIDE_RETURN_IF_ERROR(ExpectString(name, a[0]));
  const std::string& s = self.str();
  const std::string& x = a[0].str();
  if (prefix && s.compare(0, x.size(), x) == 0) return Str(s.substr(x.size()));
  if (!prefix && s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0) {
    return Str(s.substr(0, s.size() - x.size()));
  }
  return self;
}

absl::StatusOr<Value> RemovePrefix(EvalContext&, const Value& self, const CallArgs& args) {
  return AffixRemove(self, args, true);
}
absl::StatusOr<Value> RemoveSuffix(EvalContext&, const Value& self, const CallArgs& args) {
  return AffixRemove(self, args, false);
}

absl::StatusOr<Value> PartitionImpl(const Value& self, const CallArgs& args, bool from_right) {
  STRIDE_ASSIGN_OR_RETURN(auto a,
                          BindArgs(from_right ? "rpartition" : "partition", args, {{"sep"}}));
  STRIDE_RETURN_IF_ERROR(ExpectString("partition", a[0]));
  if (a[0].str().empty()) return absl::InvalidArgumentError("ValueError: empty separator");
  const std::string& s = self.str();
  const size_t pos = from_right ? s.rfind(a[0].str()) : s.find(a[0].str());
  if (pos == std::string::npos) {
    if (from_right) return Value::List({Str(""), Str(""), self}, true);
    return Value::List({self, Str(""), Str("")}, true);
  }
  return Value::List({Str(s.substr(0, pos)), a[0], Str(s.substr(pos + a[0].str().size()))}, true);
}

absl::StatusOr<Value> Partition(EvalContext&, const Value& self, const CallArgs& args) {
  return PartitionImpl(self, args, false);
}
absl::StatusOr<Value> RPartition(EvalContext&, const Value& self, const CallArgs& args) {
  return PartitionImpl(self, args, true);
}

template <bool (*kPredicate)(char32_t)>
absl::StatusOr<Value> AllChars(EvalContext&, const Value& self, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("is", args, {}).status());
  const std::u32string cps = DecodeCodepoints(self.str());
  if (cps.empty()) return Value::Bool(false);
  return Value::Bool(std::all_of(cps.begin(), cps.end(), kPredicate));
}

bool IsAlnumChar(char32_t cp) { return IsAlpha(cp) || IsNumericChar(cp); }

// islower/isupper: at least one cased character and none of the other case.
template <bool kUpper>
absl::StatusOr<Value> CaseTest(EvalContext&, const Value& self, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs(kUpper ? "isupper" : "islower", args, {}).status());
  bool cased = false;
  for (char32_t cp : DecodeCodepoints(self.str())) {
    if (kUpper ? IsLowerCase(cp) : IsUpperCase(cp)) return Value::Bool(false);
    cased |= IsCased(cp);
  }
  return Value::Bool(cased);
}

}  // namespace

MethodFunction FindStringMethod(std::string_view name) {
  static const auto* kMethods = new absl::flat_hash_map<std::string_view, MethodFunction>{
      {"startswith", StartsWith},
      {"endswith", EndsWith},
      {"split", Split},
      {"rsplit", RSplit},
      {"splitlines", SplitLinesMethod},
      {"strip", Strip},
      {"lstrip", LStrip},
      {"rstrip", RStrip},
      {"upper", Upper},
      {"lower", Lower},
      {"title", Title},
      {"capitalize", Capitalize},
      {"swapcase", SwapCase},
      {"replace", Replace},
      {"find", Find},
      {"rfind", RFind},
      {"index", Index},
      {"rindex", RIndex},
      {"count", Count},
      {"join", Join},
      {"format", Format},
      {"center", Center},
      {"ljust", LJust},
      {"rjust", RJust},
      {"zfill", ZFill},
      {"removeprefix", RemovePrefix},
      {"removesuffix", RemoveSuffix},
      {"partition", Partition},
      {"rpartition", RPartition},
      {"isdigit", AllChars<IsDecimal>},
      {"isdecimal", AllChars<IsDecimal>},
      {"isnumeric", AllChars<IsNumericChar>},
      {"isalpha", AllChars<IsAlpha>},
      {"isalnum", AllChars<IsAlnumChar>},
      {"isspace", AllChars<IsPyWhitespace>},
      {"islower", CaseTest<false>},
      {"isupper", CaseTest<true>},
  };
  auto it = kMethods->find(name);
  return it == kMethods->end() ? nullptr : it->second;
}

}  // namespace stride::engine::text::jinja
