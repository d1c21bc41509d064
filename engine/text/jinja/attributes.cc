#include "engine/text/jinja/attributes.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/text/jinja/methods.h"
#include "engine/text/jinja/unicode.h"
#include "engine/text/jinja/value_repr.h"

namespace stride::engine::text::jinja {
namespace {

Value NoAttribute(const Value& obj, std::string_view name) {
  return Value::Undefined(
      absl::StrCat("'", ObjectTypeRepr(obj), "' has no attribute '", std::string(name), "'"));
}

Value NoElement(const Value& obj, const Value& key) {
  return Value::Undefined(absl::StrCat(ObjectTypeRepr(obj), " has no element ", PyRepr(key)));
}

std::optional<Value> Method(const Value& obj, std::string_view name) {
  MethodFunction fn = nullptr;
  switch (obj.kind()) {
    case ValueKind::kString:
      fn = FindStringMethod(name);
      break;
    case ValueKind::kDict:
      fn = FindDictMethod(name);
      break;
    case ValueKind::kList:
      if (!obj.is_iterator()) fn = FindListMethod(name);
      break;
    case ValueKind::kLoop:
      fn = FindLoopMethod(name);
      break;
    default:
      break;
  }
  if (fn != nullptr) return BindMethod(obj, std::string(name), fn);
  if (IsUnsafeMethod(obj, name)) {
    return Value::Undefined(absl::StrCat("SecurityError: access to attribute '", std::string(name),
                                         "' of '", TypeName(obj), "' object is unsafe."));
  }
  return std::nullopt;
}

std::optional<Value> LoopAttribute(const LoopInfo& loop, std::string_view name) {
  const int64_t i = loop.index0;
  const int64_t n = loop.length();
  if (name == "index") return Value::Int(i + 1);
  if (name == "index0") return Value::Int(i);
  if (name == "revindex") return Value::Int(n - i);
  if (name == "revindex0") return Value::Int(n - i - 1);
  if (name == "first") return Value::Bool(i == 0);
  if (name == "last") return Value::Bool(i == n - 1);
  if (name == "length") return Value::Int(n);
  if (name == "depth") return Value::Int(1);
  if (name == "depth0") return Value::Int(0);
  if (name == "previtem") {
    if (i == 0) return Value::Undefined("there is no previous item");
    return loop.sequence.items()[i - 1];
  }
  if (name == "nextitem") {
    if (i + 1 >= n) return Value::Undefined("there is no next item");
    return loop.sequence.items()[i + 1];
  }
  return std::nullopt;
}

// Python's index normalization; false when out of range.
bool NormalizeIndex(int64_t index, size_t size, size_t* out) {
  const int64_t n = static_cast<int64_t>(size);
  if (index < 0) index += n;
  if (index < 0 || index >= n) return false;
  *out = static_cast<size_t>(index);
  return true;
}

}  // namespace

absl::StatusOr<Value> GetAttribute(const Value& obj, std::string_view name) {
  switch (obj.kind()) {
    case ValueKind::kUndefined:
      return UndefinedError(obj);
    case ValueKind::kDict: {
      if (auto m = Method(obj, name)) return *m;
      if (const Value* v = obj.dict().FindString(name)) return *v;
      return NoAttribute(obj, name);
    }
    case ValueKind::kNamespace: {
      if (const Value* v = obj.ns().attributes.FindString(name)) return *v;
      return NoAttribute(obj, name);
    }
    case ValueKind::kLoop: {
      if (auto v = LoopAttribute(obj.loop(), name)) return *v;
      if (auto m = Method(obj, name)) return *m;
      return NoAttribute(obj, name);
    }
    default:
      if (auto m = Method(obj, name)) return *m;
      return NoAttribute(obj, name);
  }
}

absl::StatusOr<Value> GetItem(const Value& obj, const Value& key) {
  switch (obj.kind()) {
    case ValueKind::kUndefined:
      return UndefinedError(obj);
    case ValueKind::kDict:
      if (const Value* v = obj.dict().Find(key)) return *v;
      break;
    case ValueKind::kList:
      if (obj.is_iterator()) return NoElement(obj, key);
      if (key.is_int() || key.is_bool()) {
        size_t i;
        if (NormalizeIndex(key.as_int(), obj.items().size(), &i)) return obj.items()[i];
        return NoElement(obj, key);
      }
      break;
    case ValueKind::kString:
      if (key.is_int() || key.is_bool()) {
        const std::u32string cps = DecodeCodepoints(obj.str());
        size_t i;
        if (NormalizeIndex(key.as_int(), cps.size(), &i)) {
          std::string c;
          AppendCodepoint(cps[i], &c);
          return Value::String(std::move(c));
        }
        return NoElement(obj, key);
      }
      break;
    default:
      break;
  }
  if (key.is_string()) return GetAttribute(obj, key.str());
  return NoElement(obj, key);
}

absl::StatusOr<Value> GetSlice(EvalContext& ctx, const Value& obj, const Value& start,
                               const Value& stop, const Value& step) {
  if (obj.is_undefined()) return UndefinedError(obj);
  auto is_index = [](const Value& v) { return v.is_none() || v.is_int() || v.is_bool(); };
  if (!is_index(start) || !is_index(stop) || !is_index(step) ||
      !((obj.is_list() && !obj.is_iterator()) || obj.is_string())) {
    return Value::Undefined(absl::StrCat(ObjectTypeRepr(obj), " has no element slice(",
                                         PyRepr(start), ", ", PyRepr(stop), ", ", PyRepr(step),
                                         ")"));
  }
  int64_t st = step.is_none() ? 1 : step.as_int();
  if (st == 0) return absl::InvalidArgumentError("ValueError: slice step cannot be zero");
  if (st < -std::numeric_limits<int64_t>::max()) st = -std::numeric_limits<int64_t>::max();
  std::u32string cps;
  if (obj.is_string()) cps = DecodeCodepoints(obj.str());
  const int64_t n =
      obj.is_string() ? static_cast<int64_t>(cps.size()) : static_cast<int64_t>(obj.items().size());
  auto adjust = [&](const Value& v, int64_t if_none) {
    if (v.is_none()) return if_none;
    int64_t i = v.as_int();
    if (i < 0) {
      i = i < -n ? -n - 1 : i;  // keep i + n from overflowing
      i += n;
      if (i < 0) i = st < 0 ? -1 : 0;
    } else if (i >= n) {
      i = st < 0 ? n - 1 : n;
    }
    return i;
  };
  const int64_t lo = adjust(start, st < 0 ? n - 1 : 0);
  const int64_t hi = adjust(stop, st < 0 ? -1 : n);
  std::vector<int64_t> indices;
  if (st > 0) {
    for (int64_t i = lo; i < hi; i += st) {
      indices.push_back(i);
      if (st > n) break;
    }
  } else {
    for (int64_t i = lo; i > hi; i += st) {
      indices.push_back(i);
      if (-st > n) break;
    }
  }
  STRIDE_RETURN_IF_ERROR(ctx.Charge(static_cast<int64_t>(indices.size()) / 16));
  if (obj.is_string()) {
    std::string out;
    for (int64_t i : indices) AppendCodepoint(cps[i], &out);
    return Value::String(std::move(out));
  }
  std::vector<Value> items;
  items.reserve(indices.size());
  for (int64_t i : indices) items.push_back(obj.items()[i]);
  return Value::List(std::move(items), obj.is_tuple());
}

}  // namespace stride::engine::text::jinja
