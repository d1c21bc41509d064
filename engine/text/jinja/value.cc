#include "engine/text/jinja/value.h"

#include <algorithm>
#include <limits>

namespace stride::engine::text::jinja {
namespace {

size_t SaturatingAdd(size_t a, size_t b) {
  constexpr size_t kMax = std::numeric_limits<size_t>::max() / 2;
  return a > kMax - std::min(b, kMax) ? kMax : a + b;
}

}  // namespace

size_t DictData::size() const { return entries_.size(); }

const Value* DictData::FindString(std::string_view key) const {
  auto it = string_index_.find(absl::string_view(key.data(), key.size()));
  return it == string_index_.end() ? nullptr : &entries_[it->second].second;
}

const Value* DictData::Find(const Value& key) const {
  if (key.is_string()) return FindString(key.str());
  for (const auto& [k, v] : entries_) {
    if (!k.is_string() && Equals(k, key)) return &v;
  }
  return nullptr;
}

void DictData::Set(Value key, Value value) {
  if (key.is_string()) {
    auto [it, inserted] = string_index_.try_emplace(key.str(), entries_.size());
    if (!inserted) {
      entries_[it->second].second = std::move(value);
      return;
    }
  } else {
    for (auto& [k, v] : entries_) {
      if (!k.is_string() && Equals(k, key)) {
        v = std::move(value);
        return;
      }
    }
  }
  entries_.emplace_back(std::move(key), std::move(value));
}

Value Value::Undefined(std::string message) {
  Value v;
  v.kind_ = ValueKind::kUndefined;
  v.string_ = std::make_shared<const std::string>(std::move(message));
  return v;
}

Value Value::Bool(bool b) {
  Value v;
  v.kind_ = ValueKind::kBool;
  v.int_ = b ? 1 : 0;
  v.float_ = v.int_;
  return v;
}

Value Value::Int(int64_t i) {
  Value v;
  v.kind_ = ValueKind::kInt;
  v.int_ = i;
  return v;
}

Value Value::Float(double d) {
  Value v;
  v.kind_ = ValueKind::kFloat;
  v.float_ = d;
  return v;
}

Value Value::String(std::string s) {
  Value v;
  v.kind_ = ValueKind::kString;
  v.weight_ = s.size() + 2;
  v.string_ = std::make_shared<const std::string>(std::move(s));
  return v;
}

Value Value::List(std::vector<Value> items, bool is_tuple) {
  Value v;
  v.kind_ = ValueKind::kList;
  int depth = 0;
  size_t weight = 2;
  for (const Value& item : items) {
    weight = SaturatingAdd(weight, item.weight_ + 2);
    depth = std::max(depth, item.depth_);
    v.reaches_namespace_ |= item.reaches_namespace_;
  }
  v.depth_ = depth + 1;
  v.weight_ = weight;
  v.list_ = std::make_shared<const ListData>(ListData{std::move(items), is_tuple});
  return v;
}

Value Value::Iterator(std::vector<Value> items) {
  Value v = List(std::move(items));
  auto data = std::make_shared<ListData>(*v.list_);
  data->is_iterator = true;
  v.list_ = std::move(data);
  return v;
}

Value Value::Dict(DictData dict) {
  Value v;
  v.kind_ = ValueKind::kDict;
  int depth = 0;
  size_t weight = 2;
  for (const auto& [key, item] : dict.entries()) {
    weight = SaturatingAdd(weight, SaturatingAdd(key.weight_, item.weight_ + 4));
    depth = std::max({depth, key.depth_, item.depth_});
    v.reaches_namespace_ |= key.reaches_namespace_ || item.reaches_namespace_;
  }
  v.depth_ = depth + 1;
  v.weight_ = weight;
  v.dict_ = std::make_shared<const DictData>(std::move(dict));
  return v;
}

Value Value::Namespace(std::shared_ptr<NamespaceData> ns) {
  Value v;
  v.kind_ = ValueKind::kNamespace;
  v.reaches_namespace_ = true;
  v.namespace_ = std::move(ns);
  return v;
}

Value Value::Function(std::shared_ptr<const Callable> callable) {
  Value v;
  v.kind_ = ValueKind::kCallable;
  v.reaches_namespace_ = callable->reaches_namespace();
  v.callable_ = std::move(callable);
  return v;
}

Value Value::Loop(std::shared_ptr<const LoopInfo> loop) {
  Value v;
  v.kind_ = ValueKind::kLoop;
  v.reaches_namespace_ = loop->sequence.reaches_namespace();
  v.loop_ = std::move(loop);
  return v;
}

bool Value::Truthy() const {
  switch (kind_) {
    case ValueKind::kUndefined:
    case ValueKind::kNone:
      return false;
    case ValueKind::kBool:
    case ValueKind::kInt:
      return int_ != 0;
    case ValueKind::kFloat:
      return float_ != 0;
    case ValueKind::kString:
      return !string_->empty();
    case ValueKind::kList:
      return list_->is_iterator || !list_->items.empty();
    case ValueKind::kDict:
      return dict_->size() != 0;
    default:
      return true;
  }
}

std::string TypeName(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined:
      return "Undefined";
    case ValueKind::kNone:
      return "NoneType";
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kInt:
      return "int";
    case ValueKind::kFloat:
      return "float";
    case ValueKind::kString:
      return "str";
    case ValueKind::kList:
      return v.is_iterator() ? "generator" : v.is_tuple() ? "tuple" : "list";
    case ValueKind::kDict:
      return "dict";
    case ValueKind::kNamespace:
      return "Namespace";
    case ValueKind::kCallable:
      return "function";
    case ValueKind::kLoop:
      return "LoopContext";
  }
  return "object";
}

std::string ObjectTypeRepr(const Value& v) {
  if (v.is_none()) return "None";
  return TypeName(v) + " object";
}

bool Equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_number() == b.as_number();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case ValueKind::kUndefined:
    case ValueKind::kNone:
      return true;
    case ValueKind::kString:
      return a.str() == b.str();
    case ValueKind::kList: {
      if (a.is_iterator() || b.is_iterator()) return &a.list() == &b.list();
      if (a.is_tuple() != b.is_tuple() || a.items().size() != b.items().size()) return false;
      for (size_t i = 0; i < a.items().size(); ++i) {
        if (!Equals(a.items()[i], b.items()[i])) return false;
      }
      return true;
    }
    case ValueKind::kDict: {
      if (a.dict().size() != b.dict().size()) return false;
      for (const auto& [key, value] : a.dict().entries()) {
        const Value* other = b.dict().Find(key);
        if (other == nullptr || !Equals(value, *other)) return false;
      }
      return true;
    }
    case ValueKind::kNamespace:
      return &a.ns() == &b.ns();
    case ValueKind::kCallable:
      return &a.callable() == &b.callable();
    case ValueKind::kLoop:
      return &a.loop() == &b.loop();
    default:
      return false;
  }
}

}  // namespace stride::engine::text::jinja
