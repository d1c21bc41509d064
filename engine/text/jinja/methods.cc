// Dict, list and loop methods, method binding and the sandbox's list of mutating methods. String
// methods are in string_methods.cc.
#include "engine/text/jinja/methods.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/text/jinja/args.h"
#include "engine/text/jinja/operators.h"
#include "engine/text/jinja/value_repr.h"

namespace stride::engine::text::jinja {
namespace {

class BoundMethod : public Callable {
 public:
  BoundMethod(Value self, std::string name, MethodFunction function)
      : self_(std::move(self)), name_(std::move(name)), function_(function) {}
  std::string name() const override {
    return absl::StrCat("built-in method ", name_, " of ", TypeName(self_), " object");
  }
  absl::StatusOr<Value> Call(EvalContext& ctx, const CallArgs& args) const override {
    STRIDE_RETURN_IF_ERROR(ctx.Charge(1));
    return function_(ctx, self_, args);
  }
  bool reaches_namespace() const override { return self_.reaches_namespace(); }

 private:
  Value self_;
  std::string name_;
  MethodFunction function_;
};

absl::StatusOr<Value> DictItems(EvalContext& ctx, const Value& self, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("items", args, {}).status());
  std::vector<Value> items;
  items.reserve(self.dict().size());
  for (const auto& [key, value] : self.dict().entries()) {
    items.push_back(Value::List({key, value}, /*is_tuple=*/true));
  }
  return Value::List(std::move(items));
}

absl::StatusOr<Value> DictKeys(EvalContext& ctx, const Value& self, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("keys", args, {}).status());
  return ToList(self);
}

absl::StatusOr<Value> DictValues(EvalContext& ctx, const Value& self, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("values", args, {}).status());
  std::vector<Value> items;
  items.reserve(self.dict().size());
  for (const auto& [key, value] : self.dict().entries()) items.push_back(value);
  return Value::List(std::move(items));
}

absl::StatusOr<Value> DictGet(EvalContext& ctx, const Value& self, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("get", args, {{"key"}, {"default", Value::None()}}));
  if (a[0].is_list() && !a[0].is_tuple()) return TypeError("unhashable type: 'list'");
  if (a[0].is_dict()) return TypeError("unhashable type: 'dict'");
  if (const Value* v = self.dict().Find(a[0])) return *v;
  return a[1];
}

absl::StatusOr<Value> Copy(EvalContext& ctx, const Value& self, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs("copy", args, {}).status());
  return self;  // values are immutable: sharing is copying
}

absl::StatusOr<Value> ListIndex(EvalContext& ctx, const Value& self, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("index", args, {{"value"}}));
  const auto& items = self.items();
  for (size_t i = 0; i < items.size(); ++i) {
    if (Equals(items[i], a[0])) return Value::Int(static_cast<int64_t>(i));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("ValueError: ", PyRepr(a[0]), " is not in ", TypeName(self)));
}

absl::StatusOr<Value> ListCount(EvalContext& ctx, const Value& self, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("count", args, {{"value"}}));
  int64_t n = 0;
  for (const Value& v : self.items()) n += Equals(v, a[0]) ? 1 : 0;
  return Value::Int(n);
}

absl::StatusOr<Value> LoopCycle(EvalContext& ctx, const Value& self, const CallArgs& args) {
  if (!args.keyword.empty()) return TypeError("cycle() takes no keyword arguments");
  if (args.positional.empty()) return TypeError("no items for cycling given");
  return args.positional[self.loop().index0 % static_cast<int64_t>(args.positional.size())];
}

}  // namespace

MethodFunction FindDictMethod(std::string_view name) {
  if (name == "items") return DictItems;
  if (name == "keys") return DictKeys;
  if (name == "values") return DictValues;
  if (name == "get") return DictGet;
  if (name == "copy") return Copy;
  return nullptr;
}

MethodFunction FindListMethod(std::string_view name) {
  if (name == "index") return ListIndex;
  if (name == "count") return ListCount;
  if (name == "copy") return Copy;
  return nullptr;
}

MethodFunction FindLoopMethod(std::string_view name) {
  if (name == "cycle") return LoopCycle;
  return nullptr;
}

bool IsUnsafeMethod(const Value& obj, std::string_view name) {
  if (obj.is_list() && !obj.is_tuple()) {
    return name == "append" || name == "clear" || name == "pop" || name == "reverse" ||
           name == "insert" || name == "sort" || name == "extend" || name == "remove";
  }
  if (obj.is_dict()) {
    return name == "clear" || name == "pop" || name == "popitem" || name == "setdefault" ||
           name == "update";
  }
  return false;
}

Value BindMethod(const Value& obj, std::string name, MethodFunction function) {
  return Value::Function(std::make_shared<BoundMethod>(obj, std::move(name), function));
}

}  // namespace stride::engine::text::jinja
