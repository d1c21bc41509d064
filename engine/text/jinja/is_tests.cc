#include "engine/text/jinja/is_tests.h"

#include "absl/container/flat_hash_map.h"
#include "base/status_macros.h"
#include "engine/text/jinja/args.h"
#include "engine/text/jinja/filters.h"
#include "engine/text/jinja/operators.h"
#include "engine/text/jinja/unicode.h"
#include "engine/text/jinja/value_repr.h"

namespace stride::engine::text::jinja {
namespace {

using Result = absl::StatusOr<bool>;

Result NoArgs(std::string_view name, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(BindArgs(name, args, {}).status());
  return true;
}

#define STRIDE_SIMPLE_TEST(Name, test_name, expr)                   \
  Result Name(EvalContext&, const Value& v, const CallArgs& args) { \
    STRIDE_RETURN_IF_ERROR(NoArgs(test_name, args).status());       \
    return (expr);                                                  \
  }

STRIDE_SIMPLE_TEST(Defined, "defined", !v.is_undefined())
STRIDE_SIMPLE_TEST(Undefined, "undefined", v.is_undefined())
STRIDE_SIMPLE_TEST(None, "none", v.is_none())
STRIDE_SIMPLE_TEST(String, "string", v.is_string())
STRIDE_SIMPLE_TEST(Mapping, "mapping", v.is_dict())
STRIDE_SIMPLE_TEST(Iterable, "iterable",
                   v.is_list() || v.is_dict() || v.is_string() || v.is_undefined())
STRIDE_SIMPLE_TEST(Sequence, "sequence",
                   (v.is_list() && !v.is_iterator()) || v.is_dict() || v.is_string() ||
                       v.is_undefined())
STRIDE_SIMPLE_TEST(Number, "number", v.is_number())
STRIDE_SIMPLE_TEST(Integer, "integer", v.is_int())
STRIDE_SIMPLE_TEST(Float, "float", v.is_float())
STRIDE_SIMPLE_TEST(Boolean, "boolean", v.is_bool())
STRIDE_SIMPLE_TEST(True, "true", v.is_bool() && v.as_bool())
STRIDE_SIMPLE_TEST(False, "false", v.is_bool() && !v.as_bool())
STRIDE_SIMPLE_TEST(CallableTest, "callable", v.is_callable())
STRIDE_SIMPLE_TEST(Escaped, "escaped", false)

#undef STRIDE_SIMPLE_TEST

Result Lower(EvalContext&, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(NoArgs("lower", args).status());
  bool cased = false;
  for (char32_t cp : DecodeCodepoints(PyStr(v))) {
    if (IsUpperCase(cp)) return false;
    cased |= IsCased(cp);
  }
  return cased;
}

Result Upper(EvalContext&, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(NoArgs("upper", args).status());
  bool cased = false;
  for (char32_t cp : DecodeCodepoints(PyStr(v))) {
    if (IsLowerCase(cp)) return false;
    cased |= IsCased(cp);
  }
  return cased;
}

Result Remainder(EvalContext& ctx, const Value& v, const Value& divisor, int64_t want) {
  STRIDE_ASSIGN_OR_RETURN(Value r, BinaryOperation(ctx, BinaryOp::kMod, v, divisor));
  return Equals(r, Value::Int(want));
}

Result Even(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(NoArgs("even", args).status());
  return Remainder(ctx, v, Value::Int(2), 0);
}

Result Odd(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(NoArgs("odd", args).status());
  return Remainder(ctx, v, Value::Int(2), 1);
}

Result DivisibleBy(EvalContext& ctx, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("divisibleby", args, {{"num"}}));
  return Remainder(ctx, v, a[0], 0);
}

template <CompareOp kOp>
Result CompareTest(EvalContext&, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("compare", args, {{"other"}}));
  return Compare(kOp, v, a[0]);
}

Result In(EvalContext&, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("in", args, {{"seq"}}));
  return Contains(a[0], v);
}

// Python's `is`: identity for containers, value and type for the immutable scalars.
Result SameAs(EvalContext&, const Value& v, const CallArgs& args) {
  STRIDE_ASSIGN_OR_RETURN(auto a, BindArgs("sameas", args, {{"other"}}));
  const Value& o = a[0];
  if (v.kind() != o.kind()) return false;
  switch (v.kind()) {
    case ValueKind::kList:
      return &v.list() == &o.list();
    case ValueKind::kDict:
      return &v.dict() == &o.dict();
    case ValueKind::kUndefined:
      return false;
    default:
      return Equals(v, o);
  }
}

Result FilterExists(EvalContext&, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(NoArgs("filter", args).status());
  return v.is_string() && FindFilter(v.str()) != nullptr;
}

Result TestExists(EvalContext&, const Value& v, const CallArgs& args) {
  STRIDE_RETURN_IF_ERROR(NoArgs("test", args).status());
  return v.is_string() && FindTest(v.str()) != nullptr;
}

}  // namespace

TestFunction FindTest(std::string_view name) {
  static const auto* kTests = new absl::flat_hash_map<std::string_view, TestFunction>{
      {"defined", Defined},
      {"undefined", Undefined},
      {"none", None},
      {"string", String},
      {"mapping", Mapping},
      {"iterable", Iterable},
      {"sequence", Sequence},
      {"number", Number},
      {"integer", Integer},
      {"float", Float},
      {"boolean", Boolean},
      {"true", True},
      {"false", False},
      {"callable", CallableTest},
      {"escaped", Escaped},
      {"lower", Lower},
      {"upper", Upper},
      {"even", Even},
      {"odd", Odd},
      {"divisibleby", DivisibleBy},
      {"eq", CompareTest<CompareOp::kEq>},
      {"equalto", CompareTest<CompareOp::kEq>},
      {"==", CompareTest<CompareOp::kEq>},
      {"ne", CompareTest<CompareOp::kNe>},
      {"!=", CompareTest<CompareOp::kNe>},
      {"lt", CompareTest<CompareOp::kLt>},
      {"lessthan", CompareTest<CompareOp::kLt>},
      {"<", CompareTest<CompareOp::kLt>},
      {"le", CompareTest<CompareOp::kLe>},
      {"<=", CompareTest<CompareOp::kLe>},
      {"gt", CompareTest<CompareOp::kGt>},
      {"greaterthan", CompareTest<CompareOp::kGt>},
      {">", CompareTest<CompareOp::kGt>},
      {"ge", CompareTest<CompareOp::kGe>},
      {">=", CompareTest<CompareOp::kGe>},
      {"in", In},
      {"sameas", SameAs},
      {"filter", FilterExists},
      {"test", TestExists},
  };
  auto it = kTests->find(name);
  return it == kTests->end() ? nullptr : it->second;
}

}  // namespace stride::engine::text::jinja
