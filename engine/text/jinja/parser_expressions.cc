// Expression half of the parser: jinja2's precedence, loosest first: `x if c else y`, or, and,
// not, comparisons (==, !=, <, <=, >, >=, in, not in), + and -, ~, * / // %, **, unary - and +,
// then postfix (.attr, [item], [a:b:c], (call)) with filters (`|f`) and tests (`is t`) binding to
// the unary operand.
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/text/jinja/filters.h"
#include "engine/text/jinja/is_tests.h"
#include "engine/text/jinja/parser.h"

namespace stride::engine::text::jinja {
namespace {

std::unique_ptr<Expr> MakeExpr(ExprKind kind, size_t offset) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->offset = offset;
  return e;
}

std::unique_ptr<Expr> MakeBinary(ExprKind kind, size_t offset, std::unique_ptr<Expr> lhs,
                                 std::unique_ptr<Expr> rhs) {
  auto e = MakeExpr(kind, offset);
  e->children.push_back(std::move(lhs));
  e->children.push_back(std::move(rhs));
  return e;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Expr>> Parser::ParseExpression(bool with_condition) {
  DepthGuard guard(this);
  STRIDE_RETURN_IF_ERROR(guard.Check());
  if (with_condition) return ParseCondition();
  return ParseOr();
}

absl::StatusOr<std::unique_ptr<Expr>> Parser::ParseTuple(bool with_condition,
                                                         std::string_view end_name,
                                                         bool explicit_parentheses) {
  const size_t offset = Current().offset;
  std::vector<std::unique_ptr<Expr>> items;
  bool is_tuple = false;
  while (true) {
    if (!items.empty()) STRIDE_RETURN_IF_ERROR(ExpectOperator(","));
    const Token& t = Current();
    if (t.type == TokenType::kVariableEnd || t.type == TokenType::kBlockEnd || t.IsOperator(")") ||
        (!end_name.empty() && t.IsName(end_name))) {
      break;
    }
    STRIDE_ASSIGN_OR_RETURN(auto item, ParseExpression(with_condition));
    items.push_back(std::move(item));
    if (Current().IsOperator(",")) {
      is_tuple = true;
    } else {
      break;
    }
  }
  if (!is_tuple) {
    if (!items.empty()) return std::move(items[0]);
    if (!explicit_parentheses) return Unexpected("an expression");
  }
  auto tuple = MakeExpr(ExprKind::kTuple, offset);
  tuple->children = std::move(items);
  return tuple;
}

absl::StatusOr<std::unique_ptr<Expr>> Parser::ParseCondition() {
  STRIDE_ASSIGN_OR_RETURN(auto expr, ParseOr());
  ChainGuard chain(this);
  while (Current().IsName("if")) {
    STRIDE_RETURN_IF_ERROR(chain.Add());
    const size_t offset = Current().offset;
    Advance();
    auto cond = MakeExpr(ExprKind::kCondition, offset);
    STRIDE_ASSIGN_OR_RETURN(auto test, ParseOr());
    cond->children.push_back(std::move(test));
    cond->children.push_back(std::move(expr));
    if (SkipName("else")) {
      STRIDE_ASSIGN_OR_RETURN(auto otherwise, ParseExpression(true));
      cond->children.push_back(std::move(otherwise));
    } else {
      cond->children.push_back(nullptr);
    }
    expr = std::move(cond);
  }
  return expr;
}

absl::StatusOr<std::unique_ptr<Expr>> Parser::ParseOr() {
  STRIDE_ASSIGN_OR_RETURN(auto lhs, ParseAnd());
  ChainGuard chain(this);
  while (Current().IsName("or")) {
    STRIDE_RETURN_IF_ERROR(chain.Add());
    const size_t offset = Current().offset;
    Advance();
    STRIDE_ASSIGN_OR_RETURN(auto rhs, ParseAnd());
    lhs = MakeBinary(ExprKind::kOr, offset, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

absl::StatusOr<std::unique_ptr<Expr>> Parser::ParseAnd() {
  STRIDE_ASSIGN_OR_RETURN(auto lhs, ParseNot());
  ChainGuard chain(this);
  while (Current().IsName("and")) {
    STRIDE_RETURN_IF_ERROR(chain.Add());
    const size_t offset = Current().offset;
    Advance();
    STRIDE_ASSIGN_OR_RETURN(auto rhs, ParseNot());
    lhs = MakeBinary(ExprKind::kAnd, offset, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

absl::StatusOr<std::unique_ptr<Expr>> Parser::ParseNot() {
  if (Current().IsName("not")) {
    DepthGuard guard(this);
    STRIDE_RETURN_IF_ERROR(guard.Check());
    const size_t offset = Current().offset;
    Advance();
    auto node = MakeExpr(ExprKind::kNot, offset);
    STRIDE_ASSIGN_OR_RETURN(auto operand, ParseNot());
    node->children.push_back(std::move(operand));
    return node;
  }
  return ParseCompare();
}

absl::StatusOr<std::unique_ptr<Expr>> Parser::ParseCompare() {
  const size_t offset = Current().offset;
  STRIDE_ASSIGN_OR_RETURN(auto first, ParseAdditive());
  std::unique_ptr<Expr> compare;
  while (true) {
    const Token& t = Current();
    CompareOp op;
    if (t.IsOperator("==")) {
      op = CompareOp::kEq;
    } else if (t.IsOperator("!=")) {
      op = CompareOp::kNe;
    } else if (t.IsOperator("<")) {
      op = CompareOp::kLt;
    } else if (t.IsOperator("<=")) {
      op = CompareOp::kLe;
    } else if (t.IsOperator(">")) {
      op = CompareOp::kGt;
    } else if (t.IsOperator(">=")) {
      op = CompareOp::kGe;
    } else if (t.IsName("in")) {
      op = CompareOp::kIn;
    } else if (t.IsName("not") && Peek().IsName("in")) {
      Advance();
      op = CompareOp::kNotIn;
    } else {
      break;
    }
    Advance();
    if (compare == nullptr) {
      compare = MakeExpr(ExprKind::kCompare, offset);
      compare->children.push_back(std::move(first));
    }
    STRIDE_ASSIGN_OR_RETURN(auto operand, ParseAdditive());
    compare->children.push_back(std::move(operand));
    compare->compare_ops.push_back(op);
  }
  if (compare == nullptr) return first;
  return compare;
}

absl::StatusOr<std::unique_ptr<Expr>> Parser::ParseAdditive() {
  STRIDE_ASSIGN_OR_RETURN(auto lhs, ParseConcat());
  ChainGuard chain(this);
  while (Current().IsOperator("+") || Current().IsOperator("-")) {
    STRIDE_RETURN_IF_ERROR(chain.Add());
    const size_t offset = Current().offset;
    const BinaryOp op = Current().text == "+" ? BinaryOp::kAdd : BinaryOp::kSub;
    Advance();
    STRIDE_ASSIGN_OR_RETURN(auto rhs, ParseConcat());
    lhs = MakeBinary(ExprKind::kBinary, offset, std::move(lhs), std::move(rhs));
    lhs->binary_op = op;
  }
  return lhs;
}

absl::StatusOr<std::unique_ptr<Expr>> Parser::ParseConcat() {
  const size_t offset = Current().offset;
  STRIDE_ASSIGN_OR_RETURN(auto first, ParseMultiplicative());
  if (!Current().IsOperator("~")) return first;
  auto concat = MakeExpr(ExprKind::kConcat, offset);
  concat->children.push_back(std::move(first));
  while (SkipOperator("~")) {
    STRIDE_ASSIGN_OR_RETURN(auto next, ParseMultiplicative());
    concat->children.push_back(std::move(next));
  }
  return concat;
}

absl::StatusOr<std::unique_ptr<Expr>> Parser::ParseMultiplicative() {
  STRIDE_ASSIGN_OR_RETURN(auto lhs, ParsePower());
  ChainGuard chain(this);
  while (true) {
    STRIDE_RETURN_IF_ERROR(chain.Add());
    const Token& t = Current();
    BinaryOp op;
    if (t.IsOperator("*")) {
      op = BinaryOp::kMul;
    } else if (t.IsOperator("/")) {
      op = BinaryOp::kDiv;
    } else if (t.IsOperator("//")) {
      op = BinaryOp::kFloorDiv;
    } else if (t.IsOperator("%")) {
      op = BinaryOp::kMod;
    } else {
      break;
    }
    const size_t offset = t.offset;
    Advance();
    STRIDE_ASSIGN_OR_RETURN(auto rhs, ParsePower());
    lhs = MakeBinary(ExprKind::kBinary, offset, std::move(lhs), std::move(rhs));
    lhs->binary_op = op;
  }
  return lhs;
}

absl::StatusOr<std::unique_ptr<Expr>> Parser::ParsePower() {
  STRIDE_ASSIGN_OR_RETURN(auto lhs, ParseUnary(true));
  ChainGuard chain(this);
  while (Current().IsOperator("**")) {
    STRIDE_RETURN_IF_ERROR(chain.Add());
    const size_t offset = Current().offset;
    Advance();
    STRIDE_ASSIGN_OR_RETURN(auto rhs, ParseUnary(true));
    lhs = MakeBinary(ExprKind::kBinary, offset, std::move(lhs), std::move(rhs));
    lhs->binary_op = BinaryOp::kPow;
  }
  return lhs;
}

absl::StatusOr<std::unique_ptr<Expr>> Parser::ParseUnary(bool with_filter) {
  DepthGuard guard(this);
  STRIDE_RETURN_IF_ERROR(guard.Check());
  const Token& t = Current();
  std::unique_ptr<Expr> node;
  if (t.IsOperator("-") || t.IsOperator("+")) {
    node = MakeExpr(t.text == "-" ? ExprKind::kNeg : ExprKind::kPos, t.offset);
    Advance();
    STRIDE_ASSIGN_OR_RETURN(auto operand, ParseUnary(false));
    node->children.push_back(std::move(operand));
  } else {
    STRIDE_ASSIGN_OR_RETURN(node, ParsePrimary());
  }
  STRIDE_ASSIGN_OR_RETURN(node, ParsePostfix(std::move(node)));
  if (with_filter) {
    STRIDE_ASSIGN_OR_RETURN(node, ParseFilterExpr(std::move(node)));
  }
  return node;
}

absl::StatusOr<std::unique_ptr<Expr>> Parser::ParsePrimary() {
  const Token& t = Current();
  const size_t offset = t.offset;
  switch (t.type) {
    case TokenType::kName: {
      auto node = MakeExpr(ExprKind::kLiteral, offset);
      if (t.text == "true" || t.text == "True") {
        node->literal = Value::Bool(true);
      } else if (t.text == "false" || t.text == "False") {
        node->literal = Value::Bool(false);
      } else if (t.text == "none" || t.text == "None") {
        node->literal = Value::None();
      } else {
        node->kind = ExprKind::kName;
        node->name = t.text;
      }
      Advance();
      return node;
    }
    case TokenType::kString: {
      std::string text;
      while (Current().type == TokenType::kString) {  // adjacent literals concatenate
        text += Current().text;
        Advance();
      }
      auto node = MakeExpr(ExprKind::kLiteral, offset);
      node->literal = Value::String(std::move(text));
      return node;
    }
    case TokenType::kInteger:
    case TokenType::kFloat: {
      auto node = MakeExpr(ExprKind::kLiteral, offset);
      node->literal =
          t.type == TokenType::kInteger ? Value::Int(t.int_value) : Value::Float(t.float_value);
      Advance();
      return node;
    }
    case TokenType::kOperator:
      if (t.text == "(") {
        Advance();
        STRIDE_ASSIGN_OR_RETURN(auto inner, ParseTuple(true, "", /*explicit_parentheses=*/true));
        STRIDE_RETURN_IF_ERROR(ExpectOperator(")"));
        return inner;
      }
      if (t.text == "[") {
        Advance();
        auto list = MakeExpr(ExprKind::kList, offset);
        while (!Current().IsOperator("]")) {
          if (!list->children.empty()) {
            STRIDE_RETURN_IF_ERROR(ExpectOperator(","));
            if (Current().IsOperator("]")) break;
          }
          STRIDE_ASSIGN_OR_RETURN(auto item, ParseExpression());
          list->children.push_back(std::move(item));
        }
        Advance();
        return list;
      }
      if (t.text == "{") {
        Advance();
        auto dict = MakeExpr(ExprKind::kDict, offset);
        while (!Current().IsOperator("}")) {
          if (!dict->children.empty()) {
            STRIDE_RETURN_IF_ERROR(ExpectOperator(","));
            if (Current().IsOperator("}")) break;
          }
          STRIDE_ASSIGN_OR_RETURN(auto key, ParseExpression());
          STRIDE_RETURN_IF_ERROR(ExpectOperator(":"));
          STRIDE_ASSIGN_OR_RETURN(auto value, ParseExpression());
          dict->children.push_back(std::move(key));
          dict->children.push_back(std::move(value));
        }
        Advance();
        return dict;
      }
      break;
    default:
      break;
  }
  return Unexpected("an expression");
}

absl::StatusOr<std::unique_ptr<Expr>> Parser::ParsePostfix(std::unique_ptr<Expr> node) {
  ChainGuard chain(this);
  while (true) {
    STRIDE_RETURN_IF_ERROR(chain.Add());
    if (Current().IsOperator(".") || Current().IsOperator("[")) {
      STRIDE_ASSIGN_OR_RETURN(node, ParseSubscript(std::move(node)));
    } else if (Current().IsOperator("(")) {
      auto call = MakeExpr(ExprKind::kCall, Current().offset);
      call->children.push_back(std::move(node));
      STRIDE_RETURN_IF_ERROR(ParseCallArgs(call.get()));
      node = std::move(call);
    } else {
      return node;
    }
  }
}

absl::StatusOr<std::unique_ptr<Expr>> Parser::ParseFilterExpr(std::unique_ptr<Expr> node) {
  ChainGuard chain(this);
  while (true) {
    STRIDE_RETURN_IF_ERROR(chain.Add());
    if (Current().IsOperator("|")) {
      STRIDE_ASSIGN_OR_RETURN(node, ParseFilter(std::move(node), /*start_inline=*/false));
    } else if (Current().IsName("is")) {
      STRIDE_ASSIGN_OR_RETURN(node, ParseTest(std::move(node)));
    } else if (Current().IsOperator("(")) {
      auto call = MakeExpr(ExprKind::kCall, Current().offset);
      call->children.push_back(std::move(node));
      STRIDE_RETURN_IF_ERROR(ParseCallArgs(call.get()));
      node = std::move(call);
    } else {
      return node;
    }
  }
}

absl::StatusOr<std::unique_ptr<Expr>> Parser::ParseSubscript(std::unique_ptr<Expr> node) {
  const size_t offset = Current().offset;
  if (SkipOperator(".")) {
    const Token& t = Current();
    if (t.type == TokenType::kName) {
      auto attr = MakeExpr(ExprKind::kGetAttr, offset);
      attr->name = t.text;
      attr->children.push_back(std::move(node));
      Advance();
      return attr;
    }
    if (t.type == TokenType::kInteger) {
      auto item = MakeExpr(ExprKind::kGetItem, offset);
      item->children.push_back(std::move(node));
      auto index = MakeExpr(ExprKind::kLiteral, t.offset);
      index->literal = Value::Int(t.int_value);
      item->children.push_back(std::move(index));
      Advance();
      return item;
    }
    return Unexpected("a name or number after '.'");
  }
  STRIDE_RETURN_IF_ERROR(ExpectOperator("["));
  // [a], [a:b], [a:b:c] with any part omitted.
  std::unique_ptr<Expr> parts[3];
  bool is_slice = false;
  if (!Current().IsOperator(":")) {
    STRIDE_ASSIGN_OR_RETURN(parts[0], ParseExpression());
  }
  if (SkipOperator(":")) {
    is_slice = true;
    if (!Current().IsOperator("]") && !Current().IsOperator(":")) {
      STRIDE_ASSIGN_OR_RETURN(parts[1], ParseExpression());
    }
    if (SkipOperator(":") && !Current().IsOperator("]")) {
      STRIDE_ASSIGN_OR_RETURN(parts[2], ParseExpression());
    }
  }
  if (Current().IsOperator(",")) {
    return Error(Current().offset, "unsupported: tuple subscripts");
  }
  STRIDE_RETURN_IF_ERROR(ExpectOperator("]"));
  auto result = MakeExpr(is_slice ? ExprKind::kSlice : ExprKind::kGetItem, offset);
  result->children.push_back(std::move(node));
  if (is_slice) {
    for (auto& part : parts) result->children.push_back(std::move(part));
  } else {
    result->children.push_back(std::move(parts[0]));
  }
  return result;
}

absl::Status Parser::ParseCallArgs(Expr* node) {
  STRIDE_RETURN_IF_ERROR(ExpectOperator("("));
  bool first = true;
  while (!Current().IsOperator(")")) {
    if (!first) {
      STRIDE_RETURN_IF_ERROR(ExpectOperator(","));
      if (Current().IsOperator(")")) break;
    }
    first = false;
    if (Current().IsOperator("*") || Current().IsOperator("**")) {
      return Error(Current().offset, "unsupported: *args / **kwargs in calls");
    }
    if (Current().type == TokenType::kName && Peek().IsOperator("=")) {
      std::string key = Current().text;
      Advance();
      Advance();
      STRIDE_ASSIGN_OR_RETURN(auto value, ParseExpression());
      node->keyword_args.emplace_back(std::move(key), std::move(value));
    } else {
      if (!node->keyword_args.empty()) {
        return Error(Current().offset, "positional argument follows keyword argument");
      }
      STRIDE_ASSIGN_OR_RETURN(auto value, ParseExpression());
      node->children.push_back(std::move(value));
    }
  }
  Advance();  // )
  return absl::OkStatus();
}

absl::StatusOr<std::string> Parser::ParseDottedName() {
  STRIDE_ASSIGN_OR_RETURN(std::string name, ExpectName());
  while (Current().IsOperator(".")) {
    Advance();
    STRIDE_ASSIGN_OR_RETURN(std::string part, ExpectName());
    absl::StrAppend(&name, ".", part);
  }
  return name;
}

absl::StatusOr<std::unique_ptr<Expr>> Parser::ParseFilter(std::unique_ptr<Expr> node,
                                                          bool start_inline) {
  ChainGuard chain(this);
  while (Current().IsOperator("|") || start_inline) {
    STRIDE_RETURN_IF_ERROR(chain.Add());
    if (!start_inline) Advance();
    start_inline = false;
    const size_t offset = Current().offset;
    STRIDE_ASSIGN_OR_RETURN(std::string name, ParseDottedName());
    auto filter = MakeExpr(ExprKind::kFilter, offset);
    filter->name = name;
    filter->filter = FindFilter(name);
    if (filter->filter == nullptr) {
      return Error(offset, absl::StrCat("unknown filter '", name, "'"));
    }
    filter->children.push_back(std::move(node));
    if (Current().IsOperator("(")) STRIDE_RETURN_IF_ERROR(ParseCallArgs(filter.get()));
    node = std::move(filter);
  }
  return node;
}

absl::StatusOr<std::unique_ptr<Expr>> Parser::ParseTest(std::unique_ptr<Expr> node) {
  Advance();  // is
  const bool negated = SkipName("not");
  const size_t offset = Current().offset;
  STRIDE_ASSIGN_OR_RETURN(std::string name, ParseDottedName());
  auto test = MakeExpr(ExprKind::kTest, offset);
  test->name = name;
  test->negated = negated;
  test->test = FindTest(name);
  if (test->test == nullptr) return Error(offset, absl::StrCat("unknown test '", name, "'"));
  test->children.push_back(std::move(node));
  const Token& t = Current();
  if (t.IsOperator("(")) {
    STRIDE_RETURN_IF_ERROR(ParseCallArgs(test.get()));
  } else if ((t.type == TokenType::kName || t.type == TokenType::kString ||
              t.type == TokenType::kInteger || t.type == TokenType::kFloat || t.IsOperator("[") ||
              t.IsOperator("{")) &&
             !t.IsName("else") && !t.IsName("or") && !t.IsName("and")) {
    if (t.IsName("is")) return Error(t.offset, "you cannot chain multiple tests with 'is'");
    // `x is divisibleby 3`: one argument without parentheses.
    STRIDE_ASSIGN_OR_RETURN(auto arg, ParsePrimary());
    STRIDE_ASSIGN_OR_RETURN(arg, ParsePostfix(std::move(arg)));
    test->children.push_back(std::move(arg));
  }
  return test;
}

}  // namespace stride::engine::text::jinja
