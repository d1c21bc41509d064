// The dynamic values a Jinja template computes with, modelled on the Python objects jinja2 sees
// when transformers renders a chat template: None, bool, int, float, str, list/tuple, dict (in
// insertion order), jinja2's Undefined, namespace(), loop and callables (macros, builtins, bound
// methods). Values are cheap to copy: strings and containers are shared and immutable (the
// transformers environment is an ImmutableSandboxedEnvironment); only namespaces are mutable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace stride::engine::text::jinja {

class Value;
class EvalContext;

enum class ValueKind {
  kUndefined,
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kList,  // also tuples (ListData::is_tuple)
  kDict,
  kNamespace,
  kCallable,
  kLoop,
};

// Deepest nesting of lists/dicts a value may have (Python's json and repr give up near 1000);
// bounds the recursion of printing, comparing and destroying values.
inline constexpr int kMaxValueDepth = 400;

struct ListData {
  std::vector<Value> items;
  bool is_tuple = false;
  // A Python generator (what jinja2's map/select/unique/... filters return): iterable, always
  // truthy, without len() or indexing.
  bool is_iterator = false;
};

// An insertion-ordered dict. String keys (all keys from JSON) are found through a hash index;
// other keys (ints, bools, None, tuples from dict literals) by Python equality.
class DictData {
 public:
  const Value* Find(const Value& key) const;
  const Value* FindString(std::string_view key) const;
  void Set(Value key, Value value);
  const std::vector<std::pair<Value, Value>>& entries() const { return entries_; }
  size_t size() const;

 private:
  std::vector<std::pair<Value, Value>> entries_;
  absl::flat_hash_map<std::string, size_t> string_index_;
};

// Positional and keyword arguments of a call.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

// Anything a template can call: macros, global functions, bound methods.
class Callable {
 public:
  virtual ~Callable() = default;
  virtual std::string name() const = 0;
  virtual absl::StatusOr<Value> Call(EvalContext& ctx, const CallArgs& args) const = 0;
  virtual bool reaches_namespace() const { return false; }
};

struct LoopInfo;

struct NamespaceData {
  DictData attributes;
};

class Value {
 public:
  Value() : kind_(ValueKind::kNone) {}  // None

  // jinja2's Undefined. `message` is what an error says when the value is used (e.g. "'foo' is
  // undefined", "'dict object' has no attribute 'x'").
  static Value Undefined(std::string message);
  static Value None() { return Value(); }
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Float(double d);
  static Value String(std::string s);
  static Value List(std::vector<Value> items, bool is_tuple = false);
  static Value Iterator(std::vector<Value> items);
  static Value Dict(DictData dict);
  static Value Namespace(std::shared_ptr<NamespaceData> ns);
  static Value Function(std::shared_ptr<const Callable> callable);
  static Value Loop(std::shared_ptr<const LoopInfo> loop);

  ValueKind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == ValueKind::kUndefined; }
  bool is_none() const { return kind_ == ValueKind::kNone; }
  bool is_bool() const { return kind_ == ValueKind::kBool; }
  bool is_int() const { return kind_ == ValueKind::kInt; }
  bool is_float() const { return kind_ == ValueKind::kFloat; }
  // int, float or bool (Python's numbers.Number).
  bool is_number() const { return is_int() || is_float() || is_bool(); }
  bool is_string() const { return kind_ == ValueKind::kString; }
  bool is_list() const { return kind_ == ValueKind::kList; }
  bool is_tuple() const { return is_list() && list_->is_tuple; }
  bool is_iterator() const { return is_list() && list_->is_iterator; }
  bool is_dict() const { return kind_ == ValueKind::kDict; }
  bool is_namespace() const { return kind_ == ValueKind::kNamespace; }
  bool is_callable() const { return kind_ == ValueKind::kCallable; }
  bool is_loop() const { return kind_ == ValueKind::kLoop; }

  bool as_bool() const { return int_ != 0; }
  int64_t as_int() const { return int_; }  // also bools (0/1)
  double as_float() const { return float_; }
  // int/bool/float as a double.
  double as_number() const { return is_float() ? float_ : static_cast<double>(int_); }
  const std::string& str() const { return *string_; }  // also the Undefined message
  const ListData& list() const { return *list_; }
  const std::shared_ptr<const ListData>& list_ptr() const { return list_; }
  const std::vector<Value>& items() const { return list_->items; }
  const DictData& dict() const { return *dict_; }
  NamespaceData& ns() const { return *namespace_; }
  const Callable& callable() const { return *callable_; }
  const LoopInfo& loop() const { return *loop_; }

  // Nesting depth of lists/dicts (0 for scalars).
  int depth() const { return depth_; }
  // An upper bound on the bytes of this value's repr, up to escaping (which at most multiplies
  // it by 10): lets the interpreter refuse a value before printing it could exhaust memory.
  size_t weight() const { return weight_; }
  // Whether a namespace is reachable from this value. Namespaces are the only mutable values, so
  // refusing to store such values in a namespace keeps reference cycles (and leaks) impossible.
  bool reaches_namespace() const { return reaches_namespace_; }

  // Python truthiness.
  bool Truthy() const;

 private:
  ValueKind kind_;
  int depth_ = 0;
  size_t weight_ = 8;
  bool reaches_namespace_ = false;
  int64_t int_ = 0;
  double float_ = 0;
  std::shared_ptr<const std::string> string_;
  std::shared_ptr<const ListData> list_;
  std::shared_ptr<const DictData> dict_;
  std::shared_ptr<NamespaceData> namespace_;
  std::shared_ptr<const Callable> callable_;
  std::shared_ptr<const LoopInfo> loop_;
};

// The per-iteration `loop` object of a for loop.
struct LoopInfo {
  int64_t index0 = 0;
  Value sequence;  // the (filtered) list being iterated
  int64_t length() const { return static_cast<int64_t>(sequence.items().size()); }
};

// Python's type name ("str", "int", "NoneType", "list", "dict", ...), for error messages.
std::string TypeName(const Value& v);
// jinja2's object_type_repr: "None", "str object", "list object", ... (used in Undefined hints).
std::string ObjectTypeRepr(const Value& v);

// Python ==. Numbers compare by value across int/float/bool; lists and tuples never equal.
bool Equals(const Value& a, const Value& b);

}  // namespace stride::engine::text::jinja
