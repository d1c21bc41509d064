// The syntax tree of a parsed template: expressions (Expr) and statements (Stmt), built once by
// the parser and walked by the interpreter for every render. Filters and tests are resolved to
// functions at parse time, so an unknown one fails when the template is loaded.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/text/jinja/value.h"

namespace stride::engine::text::jinja {

// `value | name(args)`.
using FilterFunction = absl::StatusOr<Value> (*)(EvalContext& ctx, const Value& value,
                                                 const CallArgs& args);
// `value is name(args)`.
using TestFunction = absl::StatusOr<bool> (*)(EvalContext& ctx, const Value& value,
                                              const CallArgs& args);

enum class ExprKind {
  kLiteral,    // literal
  kName,       // name
  kList,       // children: items
  kTuple,      // children: items
  kDict,       // children: key, value, key, value, ...
  kGetAttr,    // children[0].name
  kGetItem,    // children[0][children[1]]
  kSlice,      // children[0][children[1]:children[2]:children[3]] (null when omitted)
  kCall,       // children[0](children[1..], keyword_args)
  kFilter,     // children[0] | name(children[1..], keyword_args); children[0] null: block body
  kTest,       // children[0] is [not] name(children[1..], keyword_args)
  kNeg,        // -children[0]
  kPos,        // +children[0]
  kNot,        // not children[0]
  kBinary,     // children[0] binary_op children[1]
  kCompare,    // children[0] compare_ops[0] children[1] compare_ops[1] children[2] ...
  kAnd,        // children[0] and children[1]
  kOr,         // children[0] or children[1]
  kConcat,     // children[0] ~ children[1] ~ ...
  kCondition,  // children[1] if children[0] else children[2] (children[2] null: Undefined)
};

enum class BinaryOp { kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow };
enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };

struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  size_t offset = 0;
  Value literal;
  std::string name;
  std::vector<std::unique_ptr<Expr>> children;
  std::vector<std::pair<std::string, std::unique_ptr<Expr>>> keyword_args;
  BinaryOp binary_op = BinaryOp::kAdd;
  std::vector<CompareOp> compare_ops;
  FilterFunction filter = nullptr;
  TestFunction test = nullptr;
  bool negated = false;  // kTest: `is not`
};

// Left side of `set`, `for` and `with`: a name, a tuple of names, or `namespace.attribute`.
struct AssignTarget {
  std::vector<std::string> names;
  bool unpack = false;    // a tuple target (`for k, v in ...`)
  std::string attribute;  // non-empty: `names[0].attribute = ...`
};

struct Stmt;
using StmtList = std::vector<std::unique_ptr<Stmt>>;

enum class StmtKind {
  kText,      // text
  kOutput,    // {{ expr }}
  kIf,        // branches, else_body
  kFor,       // for target in expr [if condition] body [else else_body]
  kSet,       // set target = expr
  kSetBlock,  // set target [| filters in expr] body endset
  kMacro,     // macro text(params) body endmacro
  kBreak,
  kContinue,
  kFilterBlock,  // filter expr body endfilter
  kWith,         // with assignments body endwith
  kBlock,        // a body rendered in place ({% generation %})
};

struct IfBranch {
  std::unique_ptr<Expr> condition;
  StmtList body;
};

struct MacroParam {
  std::string name;
  std::unique_ptr<Expr> default_value;  // null: required
};

struct Stmt {
  StmtKind kind = StmtKind::kText;
  size_t offset = 0;
  std::string text;
  std::unique_ptr<Expr> expr;
  std::unique_ptr<Expr> condition;
  AssignTarget target;
  std::vector<IfBranch> branches;
  StmtList body;
  StmtList else_body;
  std::vector<MacroParam> params;
  std::vector<std::pair<AssignTarget, std::unique_ptr<Expr>>> assignments;
};

}  // namespace stride::engine::text::jinja
