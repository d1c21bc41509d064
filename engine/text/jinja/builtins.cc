#include "engine/text/jinja/builtins.h"

#include <ctime>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/text/jinja/args.h"
#include "engine/text/jinja/eval_context.h"
#include "engine/text/jinja/value_repr.h"

namespace stride::engine::text::jinja {
namespace {

using Function = absl::StatusOr<Value> (*)(EvalContext& ctx, const CallArgs& args);

class Builtin : public Callable {
 public:
  Builtin(std::string name, Function function) : name_(std::move(name)), function_(function) {}
  std::string name() const override { return absl::StrCat("function ", name_); }
  absl::StatusOr<Value> Call(EvalContext& ctx, const CallArgs& args) const override {
    STRIDE_RETURN_IF_ERROR(ctx.Charge(1));
    return function_(ctx, args);
  }

 private:
  std::string name_;
  Function function_;
};

constexpr int64_t kMaxRange = 100000;  // jinja2.sandbox.MAX_RANGE

absl::StatusOr<Value> Range(EvalContext& ctx, const CallArgs& args) {
  if (!args.keyword.empty()) return TypeError("range() takes no keyword arguments");
  const auto& p = args.positional;
  if (p.empty() || p.size() > 3) {
    return TypeError(absl::StrCat("range expected at most 3 arguments, got ", p.size()));
  }
  for (const Value& v : p) {
    if (!v.is_int() && !v.is_bool()) {
      return TypeError(
          absl::StrCat("'", TypeName(v), "' object cannot be interpreted as an integer"));
    }
  }
  const int64_t start = p.size() == 1 ? 0 : p[0].as_int();
  const int64_t stop = p.size() == 1 ? p[0].as_int() : p[1].as_int();
  const int64_t step = p.size() == 3 ? p[2].as_int() : 1;
  if (step == 0) return absl::InvalidArgumentError("ValueError: range() arg 3 must not be zero");
  // Length computed in 128 bits: the bounds may be anywhere in int64.
  __int128 length = 0;
  if (step > 0 && start < stop) {
    length = ((__int128)stop - start - 1) / step + 1;
  } else if (step < 0 && start > stop) {
    length = ((__int128)start - stop - 1) / -(__int128)step + 1;
  }
  if (length > kMaxRange) {
    return absl::InvalidArgumentError(
        "OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  }
  STRIDE_RETURN_IF_ERROR(ctx.Charge(static_cast<int64_t>(length) / 16));
  std::vector<Value> items;
  items.reserve(static_cast<size_t>(length));
  for (int64_t i = 0; i < static_cast<int64_t>(length); ++i) {
    items.push_back(Value::Int(start + i * step));
  }
  return Value::List(std::move(items));
}

// dict(mapping, **kwargs) as Python builds it (also the attributes of a namespace).
absl::StatusOr<DictData> DictFromArgs(std::string_view function, const CallArgs& args) {
  if (args.positional.size() > 1) {
    return TypeError(absl::StrCat(std::string(function), " expected at most 1 argument, got ",
                                  args.positional.size()));
  }
  DictData dict;
  if (!args.positional.empty()) {
    const Value& source = args.positional[0];
    if (source.is_dict()) {
      for (const auto& [k, v] : source.dict().entries()) dict.Set(k, v);
    } else if (source.is_list()) {
      for (const Value& pair : source.items()) {
        if (!pair.is_list() || pair.items().size() != 2) {
          return absl::InvalidArgumentError(
              absl::StrCat("ValueError: dictionary update sequence element has the wrong length"));
        }
        dict.Set(pair.items()[0], pair.items()[1]);
      }
    } else {
      return TypeError(absl::StrCat("'", TypeName(source), "' object is not iterable"));
    }
  }
  for (const auto& [k, v] : args.keyword) dict.Set(Value::String(k), v);
  return dict;
}

absl::StatusOr<Value> Namespace(EvalContext& ctx, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(DictData attributes, DictFromArgs("namespace", args));
  for (const auto& [k, v] : attributes.entries()) {
    if (v.reaches_namespace()) {
      return absl::InvalidArgumentError("a namespace attribute cannot hold another namespace");
    }
  }
  auto ns = std::make_shared<NamespaceData>();
  ns->attributes = std::move(attributes);
  return Value::Namespace(std::move(ns));
}

absl::StatusOr<Value> Dict(EvalContext& ctx, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(DictData dict, DictFromArgs("dict", args));
  return Value::Dict(std::move(dict));
}

absl::StatusOr<Value> RaiseException(EvalContext& ctx, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("raise_exception", args, {{"message"}}));
  return absl::InvalidArgumentError(absl::StrCat(kRaisedExceptionPrefix, PyStr(a[0])));
}

absl::StatusOr<Value> StrftimeNow(EvalContext& ctx, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("strftime_now", args, {{"format"}}));
  if (!a[0].is_string()) {
    return TypeError(absl::StrCat("strftime() argument 1 must be str, not ", TypeName(a[0])));
  }
  const std::string& format = a[0].str();
  if (format.empty()) return Value::String("");
  if (format.size() > 4096) return absl::InvalidArgumentError("strftime format too long");
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  // strftime returns 0 both for "too small" and for an empty result; grow a few times.
  for (size_t size = 256; size <= 256 * 1024; size *= 8) {
    std::string buf(size, '\0');
    const size_t n = std::strftime(buf.data(), buf.size(), format.c_str(), &local);
    if (n > 0) {
      buf.resize(n);
      return Value::String(std::move(buf));
    }
  }
  return Value::String("");
}

}  // namespace

std::vector<std::pair<std::string, Value>> BuiltinGlobals() {
  std::vector<std::pair<std::string, Value>> globals;
  auto add = [&](const char* name, Function f) {
    globals.emplace_back(name, Value::Function(std::make_shared<Builtin>(name, f)));
  };
  add("range", Range);
  add("namespace", Namespace);
  add("dict", Dict);
  add("raise_exception", RaiseException);
  add("strftime_now", StrftimeNow);
  return globals;
}

}  // namespace stride::engine::text::jinja
