// Expression evaluation of the interpreter.
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/text/jinja/attributes.h"
#include "engine/text/jinja/interpreter.h"
#include "engine/text/jinja/operators.h"
#include "engine/text/jinja/token.h"
#include "engine/text/jinja/value_repr.h"

namespace stride::engine::text::jinja {
namespace {

absl::Status CheckDepth(const Value& v) {
  if (v.depth() > kMaxValueDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat("value nested deeper than ", kMaxValueDepth, " levels"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Interpreter::CheckValue(const Value& v) const {
  STRIDE_RETURN_IF_ERROR(CheckDepth(v));
  return CheckSize(v.weight());
}

namespace {

absl::Status CheckHashable(const Value& key) {
  if (key.is_dict() || (key.is_list() && !key.is_tuple()) || key.is_namespace()) {
    return TypeError(absl::StrCat("unhashable type: '", TypeName(key), "'"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Value> Interpreter::CallValue(const Value& callee, const CallArgs& args) {
  if (callee.is_undefined()) return UndefinedError(callee);
  if (!callee.is_callable()) {
    return TypeError(absl::StrCat("'", TypeName(callee), "' object is not callable"));
  }
  return callee.callable().Call(*this, args);
}

absl::StatusOr<Value> Interpreter::Eval(const Expr& expr) {
  absl::StatusOr<Value> result = EvalUnlocated(expr);
  if (!result.ok()) return Locate(result.status(), expr.offset);
  return result;
}

absl::StatusOr<CallArgs> Interpreter::EvalArgs(const Expr& expr, size_t first_arg) {
  CallArgs args;
  for (size_t i = first_arg; i < expr.children.size(); ++i) {
    STRIDE_ASSIGN_OR_RETURN(Value v, Eval(*expr.children[i]));
    args.positional.push_back(std::move(v));
  }
  for (const auto& [name, value_expr] : expr.keyword_args) {
    STRIDE_ASSIGN_OR_RETURN(Value v, Eval(*value_expr));
    args.keyword.emplace_back(name, std::move(v));
  }
  return args;
}

absl::StatusOr<Value> Interpreter::EvalCompare(const Expr& expr) {
  STRIDE_ASSIGN_OR_RETURN(Value lhs, Eval(*expr.children[0]));
  for (size_t i = 0; i < expr.compare_ops.size(); ++i) {
    STRIDE_ASSIGN_OR_RETURN(Value rhs, Eval(*expr.children[i + 1]));
    STRIDE_ASSIGN_OR_RETURN(bool holds, Compare(expr.compare_ops[i], lhs, rhs));
    if (!holds) return Value::Bool(false);
    lhs = std::move(rhs);
  }
  return Value::Bool(true);
}

absl::StatusOr<Value> Interpreter::EvalUnlocated(const Expr& expr) {
  STRIDE_RETURN_IF_ERROR(Charge(1));
  const auto& c = expr.children;
  switch (expr.kind) {
    case ExprKind::kLiteral:
      return expr.literal;
    case ExprKind::kName:
      return Lookup(expr.name);
    case ExprKind::kList:
    case ExprKind::kTuple: {
      std::vector<Value> items;
      items.reserve(c.size());
      for (const auto& child : c) {
        STRIDE_ASSIGN_OR_RETURN(Value v, Eval(*child));
        items.push_back(std::move(v));
      }
      Value list = Value::List(std::move(items), expr.kind == ExprKind::kTuple);
      STRIDE_RETURN_IF_ERROR(CheckValue(list));
      return list;
    }
    case ExprKind::kDict: {
      DictData dict;
      for (size_t i = 0; i + 1 < c.size(); i += 2) {
        STRIDE_ASSIGN_OR_RETURN(Value key, Eval(*c[i]));
        STRIDE_RETURN_IF_ERROR(CheckHashable(key));
        STRIDE_ASSIGN_OR_RETURN(Value value, Eval(*c[i + 1]));
        dict.Set(std::move(key), std::move(value));
      }
      Value v = Value::Dict(std::move(dict));
      STRIDE_RETURN_IF_ERROR(CheckValue(v));
      return v;
    }
    case ExprKind::kGetAttr: {
      STRIDE_ASSIGN_OR_RETURN(Value obj, Eval(*c[0]));
      return GetAttribute(obj, expr.name);
    }
    case ExprKind::kGetItem: {
      STRIDE_ASSIGN_OR_RETURN(Value obj, Eval(*c[0]));
      STRIDE_ASSIGN_OR_RETURN(Value key, Eval(*c[1]));
      return GetItem(obj, key);
    }
    case ExprKind::kSlice: {
      STRIDE_ASSIGN_OR_RETURN(Value obj, Eval(*c[0]));
      Value parts[3];
      for (int i = 0; i < 3; ++i) {
        if (c[i + 1] != nullptr) {
          STRIDE_ASSIGN_OR_RETURN(parts[i], Eval(*c[i + 1]));
        }
      }
      return GetSlice(*this, obj, parts[0], parts[1], parts[2]);
    }
    case ExprKind::kCall: {
      STRIDE_ASSIGN_OR_RETURN(Value callee, Eval(*c[0]));
      STRIDE_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(expr, 1));
      STRIDE_ASSIGN_OR_RETURN(Value result, CallValue(callee, args));
      STRIDE_RETURN_IF_ERROR(CheckValue(result));
      return result;
    }
    case ExprKind::kFilter: {
      Value operand;
      if (c[0] == nullptr) {
        operand = Value::String(block_text_ != nullptr ? *block_text_ : std::string());
      } else {
        STRIDE_ASSIGN_OR_RETURN(operand, Eval(*c[0]));
      }
      STRIDE_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(expr, 1));
      STRIDE_ASSIGN_OR_RETURN(Value result, expr.filter(*this, operand, args));
      STRIDE_RETURN_IF_ERROR(CheckValue(result));
      return result;
    }
    case ExprKind::kTest: {
      STRIDE_ASSIGN_OR_RETURN(Value operand, Eval(*c[0]));
      STRIDE_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(expr, 1));
      STRIDE_ASSIGN_OR_RETURN(bool holds, expr.test(*this, operand, args));
      return Value::Bool(holds != expr.negated);
    }
    case ExprKind::kNeg: {
      STRIDE_ASSIGN_OR_RETURN(Value v, Eval(*c[0]));
      return Negate(v);
    }
    case ExprKind::kPos: {
      STRIDE_ASSIGN_OR_RETURN(Value v, Eval(*c[0]));
      if (v.is_undefined()) return UndefinedError(v);
      if (!v.is_number()) {
        return TypeError(absl::StrCat("bad operand type for unary +: '", TypeName(v), "'"));
      }
      return v.is_bool() ? Value::Int(v.as_int()) : v;
    }
    case ExprKind::kNot: {
      STRIDE_ASSIGN_OR_RETURN(Value v, Eval(*c[0]));
      return Value::Bool(!v.Truthy());
    }
    case ExprKind::kBinary: {
      STRIDE_ASSIGN_OR_RETURN(Value lhs, Eval(*c[0]));
      STRIDE_ASSIGN_OR_RETURN(Value rhs, Eval(*c[1]));
      STRIDE_ASSIGN_OR_RETURN(Value result, BinaryOperation(*this, expr.binary_op, lhs, rhs));
      STRIDE_RETURN_IF_ERROR(CheckValue(result));
      return result;
    }
    case ExprKind::kCompare:
      return EvalCompare(expr);
    case ExprKind::kAnd: {
      STRIDE_ASSIGN_OR_RETURN(Value lhs, Eval(*c[0]));
      if (!lhs.Truthy()) return lhs;
      return Eval(*c[1]);
    }
    case ExprKind::kOr: {
      STRIDE_ASSIGN_OR_RETURN(Value lhs, Eval(*c[0]));
      if (lhs.Truthy()) return lhs;
      return Eval(*c[1]);
    }
    case ExprKind::kConcat: {
      std::string out;
      for (const auto& child : c) {
        STRIDE_ASSIGN_OR_RETURN(Value v, Eval(*child));
        AppendPyStr(v, &out);
        STRIDE_RETURN_IF_ERROR(CheckSize(out.size()));
      }
      return Value::String(std::move(out));
    }
    case ExprKind::kCondition: {
      STRIDE_ASSIGN_OR_RETURN(Value cond, Eval(*c[0]));
      if (cond.Truthy()) return Eval(*c[1]);
      if (c[2] != nullptr) return Eval(*c[2]);
      return Value::Undefined(absl::StrCat("the inline if-expression at ",
                                           DescribeLocation(source_, expr.offset),
                                           " evaluated to false and no else section was defined."));
    }
  }
  return Value::None();
}

}  // namespace stride::engine::text::jinja
