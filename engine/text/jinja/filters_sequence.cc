// Filters on sequences and mappings: length, first/last, list, items, join, map, select/reject
// (and the attr variants), unique, sort, dictsort, reverse, sum, min/max, batch, attr. Like
// jinja2, map/select/reject/unique/batch/reverse/items return generators (always truthy, no
// length) that `list` turns back into lists.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "engine/text/jinja/args.h"
#include "engine/text/jinja/attributes.h"
#include "engine/text/jinja/filters.h"
#include "engine/text/jinja/is_tests.h"
#include "engine/text/jinja/operators.h"
#include "engine/text/jinja/unicode.h"
#include "engine/text/jinja/value_repr.h"

namespace stride::engine::text::jinja::filters {
namespace {

absl::StatusOr<std::vector<Value>> ItemsOf(const Value& v) {
  STRIDE_ASSIGN_OR_RETURN(Value list, ToList(v));
  return list.items();
}

// jinja2's make_attrgetter: "a.b.0" looks up item a, then b, then index 0.
class AttrGetter {
 public:
  AttrGetter() = default;
  explicit AttrGetter(const Value& attribute, bool lower_strings = false,
                      Value default_value = Value::None())
      : active_(!attribute.is_none()),
        lower_strings_(lower_strings),
        default_(std::move(default_value)) {
    if (attribute.is_string()) {
      const std::vector<std::string> split = absl::StrSplit(attribute.str(), '.');
      for (const std::string& part : split) {
        const bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) {
          return c >= '0' && c <= '9';
        });
        parts_.push_back(digits && part.size() < 18
                             ? Value::Int(std::strtoll(part.c_str(), nullptr, 10))
                             : Value::String(part));
      }
    } else if (active_) {
      parts_.push_back(attribute);
    }
  }

  absl::StatusOr<Value> operator()(Value item) const {
    for (const Value& part : parts_) {
      STRIDE_ASSIGN_OR_RETURN(item, GetItem(item, part));
      if (!default_.is_none() && item.is_undefined()) item = default_;
    }
    if (lower_strings_ && item.is_string()) return Value::String(PyLower(item.str()));
    return item;
  }

 private:
  bool active_ = false;
  bool lower_strings_ = false;
  Value default_;
  std::vector<Value> parts_;
};

absl::StatusOr<Value> SelectOrReject(EvalContext& ctx, const Value& v, const CallArgs& args,
                                     bool by_attribute, bool want) {
  size_t next = 0;
  AttrGetter getter;
  if (by_attribute) {
    if (args.positional.empty()) return TypeError("selectattr/rejectattr need an attribute");
    getter = AttrGetter(args.positional[0]);
    next = 1;
  }
  TestFunction test = nullptr;
  CallArgs test_args;
  if (next < args.positional.size()) {
    const Value& name = args.positional[next];
    test = name.is_string() ? FindTest(name.str()) : nullptr;
    if (test == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("TemplateRuntimeError: No test named ", PyRepr(name), "."));
    }
    test_args.positional.assign(args.positional.begin() + next + 1, args.positional.end());
    test_args.keyword = args.keyword;
  }
  STRIDE_ASSIGN_OR_RETURN(std::vector<Value> items, ItemsOf(v));
  std::vector<Value> out;
  for (const Value& item : items) {
    STRIDE_RETURN_IF_ERROR(ctx.Charge(1));
    Value subject = item;
    if (by_attribute) {
      STRIDE_ASSIGN_OR_RETURN(subject, getter(item));
    }
    bool pass;
    if (test != nullptr) {
      STRIDE_ASSIGN_OR_RETURN(pass, test(ctx, subject, test_args));
    } else {
      pass = subject.Truthy();
    }
    if (pass == want) out.push_back(item);
  }
  return Value::Iterator(std::move(out));
}

// Sorts `items` by `keys` (Python's stable sorted(); reverse keeps equal items in order).
absl::Status SortByKeys(std::vector<Value>* items, const std::vector<Value>& keys, bool reverse) {
  std::vector<size_t> order(items->size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  absl::Status error;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (!error.ok()) return false;
    auto c = ThreeWayCompare(keys[a], keys[b]);
    if (!c.ok()) {
      error = c.status();
      return false;
    }
    return reverse ? *c > 0 : *c < 0;
  });
  STRIDE_RETURN_IF_ERROR(error);
  std::vector<Value> sorted;
  sorted.reserve(order.size());
  for (size_t i : order) sorted.push_back((*items)[i]);
  *items = std::move(sorted);
  return absl::OkStatus();
}

absl::StatusOr<Value> MinMax(EvalContext& ctx, const Value& v, const CallArgs& args, bool max) {
  STRIDE_ASSIGN_OR_RETURN(
      auto a, BindArgs(max ? "max" : "min", args,
                       {{"case_sensitive", Value::Bool(false)}, {"attribute", Value::None()}}));
  STRIDE_ASSIGN_OR_RETURN(std::vector<Value> items, ItemsOf(v));
  if (items.empty()) return Value::Undefined("No aggregated item, sequence was empty.");
  const AttrGetter key(a[1], !a[0].Truthy());
  size_t best = 0;
  STRIDE_ASSIGN_OR_RETURN(Value best_key, key(items[0]));
  for (size_t i = 1; i < items.size(); ++i) {
    STRIDE_ASSIGN_OR_RETURN(Value k, key(items[i]));
    if (!a[0].Truthy() && a[1].is_none() && k.is_string()) k = Value::String(PyLower(k.str()));
    STRIDE_ASSIGN_OR_RETURN(int c, ThreeWayCompare(k, best_key));
    if (max ? c > 0 : c < 0) {
      best = i;
      best_key = k;
    }
  }
  return items[best];
}

}  // namespace

absl::StatusOr<Value> Length(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("length", args, {}).status());
  switch (v.kind()) {
    case ValueKind::kUndefined:
      return Value::Int(0);
    case ValueKind::kString:
      return Value::Int(static_cast<int64_t>(CodepointCount(v.str())));
    case ValueKind::kList:
      if (v.is_iterator()) break;
      return Value::Int(static_cast<int64_t>(v.items().size()));
    case ValueKind::kDict:
      return Value::Int(static_cast<int64_t>(v.dict().size()));
    default:
      break;
  }
  return TypeError(absl::StrCat("object of type '", TypeName(v), "' has no len()"));
}

absl::StatusOr<Value> First(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("first", args, {}).status());
  STRIDE_ASSIGN_OR_RETURN(std::vector<Value> items, ItemsOf(v));
  if (items.empty()) return Value::Undefined("No first item, sequence was empty.");
  return items.front();
}

absl::StatusOr<Value> Last(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("last", args, {}).status());
  if (v.is_iterator()) return TypeError("'generator' object is not reversible");
  STRIDE_ASSIGN_OR_RETURN(std::vector<Value> items, ItemsOf(v));
  if (items.empty()) return Value::Undefined("No last item, sequence was empty.");
  return items.back();
}

absl::StatusOr<Value> List(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("list", args, {}).status());
  return ToList(v);
}

absl::StatusOr<Value> Items(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("items", args, {}).status());
  if (v.is_undefined()) return Value::Iterator({});
  if (!v.is_dict()) return TypeError("Can only get item pairs from a mapping.");
  std::vector<Value> pairs;
  for (const auto& [key, value] : v.dict().entries()) {
    pairs.push_back(Value::List({key, value}, /*is_tuple=*/true));
  }
  return Value::Iterator(std::move(pairs));
}

absl::StatusOr<Value> Join(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(
      auto a, BindArgs("join", args, {{"d", Value::String("")}, {"attribute", Value::None()}}));
  STRIDE_ASSIGN_OR_RETURN(std::vector<Value> items, ItemsOf(v));
  const AttrGetter getter(a[1]);
  const std::string separator = PyStr(a[0]);
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    STRIDE_ASSIGN_OR_RETURN(Value item, getter(items[i]));
    AppendPyStr(item, &out);
    STRIDE_RETURN_IF_ERROR(ctx.CheckSize(out.size()));
  }
  return Value::String(std::move(out));
}

absl::StatusOr<Value> Map(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(std::vector<Value> items, ItemsOf(v));
  std::vector<Value> out;
  out.reserve(items.size());
  if (args.positional.empty()) {
    Value attribute = Value::Undefined("");
    Value default_value;
    for (const auto& [k, val] : args.keyword) {
      if (k == "attribute") {
        attribute = val;
      } else if (k == "default") {
        default_value = val;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("FilterArgumentError: Unexpected keyword argument '", k, "'"));
      }
    }
    if (attribute.is_undefined()) return TypeError("map() needs a filter name or attribute=");
    const AttrGetter getter(attribute, false, default_value);
    for (const Value& item : items) {
      STRIDE_RETURN_IF_ERROR(ctx.Charge(1));
      STRIDE_ASSIGN_OR_RETURN(Value mapped, getter(item));
      out.push_back(std::move(mapped));
    }
    return Value::Iterator(std::move(out));
  }
  const Value& name = args.positional[0];
  FilterFunction filter = name.is_string() ? FindFilter(name.str()) : nullptr;
  if (filter == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("TemplateRuntimeError: No filter named ", PyRepr(name), "."));
  }
  CallArgs filter_args;
  filter_args.positional.assign(args.positional.begin() + 1, args.positional.end());
  filter_args.keyword = args.keyword;
  for (const Value& item : items) {
    STRIDE_RETURN_IF_ERROR(ctx.Charge(1));
    STRIDE_ASSIGN_OR_RETURN(Value mapped, filter(ctx, item, filter_args));
    out.push_back(std::move(mapped));
  }
  return Value::Iterator(std::move(out));
}

absl::StatusOr<Value> Select(EvalContext& ctx, const Value& v, const CallArgs& args) {
  return SelectOrReject(ctx, v, args, false, true);
}
absl::StatusOr<Value> Reject(EvalContext& ctx, const Value& v, const CallArgs& args) {
  return SelectOrReject(ctx, v, args, false, false);
}
absl::StatusOr<Value> SelectAttr(EvalContext& ctx, const Value& v, const CallArgs& args) {
  return SelectOrReject(ctx, v, args, true, true);
}
absl::StatusOr<Value> RejectAttr(EvalContext& ctx, const Value& v, const CallArgs& args) {
  return SelectOrReject(ctx, v, args, true, false);
}

absl::StatusOr<Value> Unique(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(
      auto a, BindArgs("unique", args,
                       {{"case_sensitive", Value::Bool(false)}, {"attribute", Value::None()}}));
  STRIDE_ASSIGN_OR_RETURN(std::vector<Value> items, ItemsOf(v));
  const AttrGetter getter(a[1], !a[0].Truthy());
  std::vector<Value> out;
  std::vector<Value> seen;
  for (const Value& item : items) {
    STRIDE_ASSIGN_OR_RETURN(Value key, getter(item));
    if (!a[0].Truthy() && a[1].is_none() && key.is_string())
      key = Value::String(PyLower(key.str()));
    if (key.is_dict() || (key.is_list() && !key.is_tuple())) {
      return TypeError(absl::StrCat("unhashable type: '", TypeName(key), "'"));
    }
    STRIDE_RETURN_IF_ERROR(ctx.Charge(static_cast<int64_t>(seen.size() / 16 + 1)));
    bool found = false;
    for (const Value& s : seen) {
      if (Equals(s, key)) {
        found = true;
        break;
      }
    }
    if (!found) {
      seen.push_back(key);
      out.push_back(item);
    }
  }
  return Value::Iterator(std::move(out));
}

absl::StatusOr<Value> Sort(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("sort", args,
                                           {{"reverse", Value::Bool(false)},
                                            {"case_sensitive", Value::Bool(false)},
                                            {"attribute", Value::None()}}));
  STRIDE_ASSIGN_OR_RETURN(std::vector<Value> items, ItemsOf(v));
  STRIDE_RETURN_IF_ERROR(ctx.Charge(static_cast<int64_t>(items.size()) * 4));
  const AttrGetter getter(a[2], !a[1].Truthy());
  std::vector<Value> keys;
  keys.reserve(items.size());
  for (const Value& item : items) {
    STRIDE_ASSIGN_OR_RETURN(Value key, getter(item));
    if (!a[1].Truthy() && key.is_string()) key = Value::String(PyLower(key.str()));
    keys.push_back(std::move(key));
  }
  STRIDE_RETURN_IF_ERROR(SortByKeys(&items, keys, a[0].Truthy()));
  return Value::List(std::move(items));
}

absl::StatusOr<Value> DictSort(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("dictsort", args,
                                           {{"case_sensitive", Value::Bool(false)},
                                            {"by", Value::String("key")},
                                            {"reverse", Value::Bool(false)}}));
  if (!v.is_dict())
    return TypeError(absl::StrCat("'", TypeName(v), "' object has no attribute 'items'"));
  const std::string by = PyStr(a[1]);
  if (by != "key" && by != "value") {
    return absl::InvalidArgumentError(
        "FilterArgumentError: You can only sort by either \"key\" or \"value\"");
  }
  std::vector<Value> items;
  std::vector<Value> keys;
  for (const auto& [key, value] : v.dict().entries()) {
    items.push_back(Value::List({key, value}, /*is_tuple=*/true));
    Value k = by == "key" ? key : value;
    if (!a[0].Truthy() && k.is_string()) k = Value::String(PyLower(k.str()));
    keys.push_back(std::move(k));
  }
  STRIDE_RETURN_IF_ERROR(ctx.Charge(static_cast<int64_t>(items.size()) * 4));
  STRIDE_RETURN_IF_ERROR(SortByKeys(&items, keys, a[2].Truthy()));
  return Value::List(std::move(items));
}

absl::StatusOr<Value> Reverse(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("reverse", args, {}).status());
  if (v.is_string()) {
    std::u32string cps = DecodeCodepoints(v.str());
    std::reverse(cps.begin(), cps.end());
    return Value::String(EncodeCodepoints(cps));
  }
  STRIDE_ASSIGN_OR_RETURN(std::vector<Value> items, ItemsOf(v));
  std::reverse(items.begin(), items.end());
  return Value::Iterator(std::move(items));
}

absl::StatusOr<Value> Sum(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(
      auto a, BindArgs("sum", args, {{"attribute", Value::None()}, {"start", Value::Int(0)}}));
  STRIDE_ASSIGN_OR_RETURN(std::vector<Value> items, ItemsOf(v));
  const AttrGetter getter(a[0]);
  Value total = a[1];
  for (const Value& item : items) {
    STRIDE_ASSIGN_OR_RETURN(Value x, getter(item));
    STRIDE_ASSIGN_OR_RETURN(total, BinaryOperation(ctx, BinaryOp::kAdd, total, x));
  }
  return total;
}

absl::StatusOr<Value> Min(EvalContext& ctx, const Value& v, const CallArgs& args) {
  return MinMax(ctx, v, args, false);
}
absl::StatusOr<Value> Max(EvalContext& ctx, const Value& v, const CallArgs& args) {
  return MinMax(ctx, v, args, true);
}

absl::StatusOr<Value> Batch(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a,
                          BindArgs("batch", args, {{"linecount"}, {"fill_with", Value::None()}}));
  if (!(a[0].is_int() || a[0].is_bool()) || a[0].as_int() <= 0) {
    return absl::InvalidArgumentError("batch() linecount must be a positive integer");
  }
  const size_t n = static_cast<size_t>(a[0].as_int());
  STRIDE_ASSIGN_OR_RETURN(std::vector<Value> items, ItemsOf(v));
  std::vector<Value> batches;
  for (size_t i = 0; i < items.size(); i += n) {
    std::vector<Value> batch(items.begin() + i, items.begin() + std::min(items.size(), i + n));
    if (batch.size() < n && !a[1].is_none()) {
      STRIDE_RETURN_IF_ERROR(ctx.CheckSize(n));
      batch.resize(n, a[1]);
    }
    batches.push_back(Value::List(std::move(batch)));
  }
  return Value::Iterator(std::move(batches));
}

absl::StatusOr<Value> Attr(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("attr", args, {{"name"}}));
  const std::string name = PyStr(a[0]);
  if (v.is_dict()) {  // attributes only: a dict's keys are not its attributes
    STRIDE_ASSIGN_OR_RETURN(Value attr, GetAttribute(v, name));
    if (attr.is_callable()) return attr;
    return Value::Undefined(absl::StrCat("'dict object' has no attribute '", name, "'"));
  }
  return GetAttribute(v, name);
}

}  // namespace stride::engine::text::jinja::filters
