#include "engine/text/jinja/parser.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace stride::engine::text::jinja {

absl::Status Parser::DepthGuard::CheckDepth(const Parser* parser) {
  if (parser->depth_ > kMaxNesting) {
    return parser->Error(parser->Current().offset,
                         absl::StrCat("template nested more than ", kMaxNesting, " levels deep"));
  }
  return absl::OkStatus();
}

std::string Parser::Describe(const Token& token) {
  switch (token.type) {
    case TokenType::kText:
      return "text";
    case TokenType::kVariableBegin:
      return "'{{'";
    case TokenType::kVariableEnd:
      return "end of print statement '}}'";
    case TokenType::kBlockBegin:
      return "'{%'";
    case TokenType::kBlockEnd:
      return "end of statement block '%}'";
    case TokenType::kName:
      return absl::StrCat("'", token.text, "'");
    case TokenType::kString:
      return "string literal";
    case TokenType::kInteger:
      return "integer literal";
    case TokenType::kFloat:
      return "float literal";
    case TokenType::kOperator:
      return absl::StrCat("'", token.text, "'");
    case TokenType::kEndOfInput:
      return "end of template";
  }
  return "token";
}

absl::Status Parser::Error(size_t offset, std::string_view message) const {
  return absl::InvalidArgumentError(absl::StrCat(
      "template syntax error at ", DescribeLocation(source_, offset), ": ", std::string(message)));
}

absl::Status Parser::Unexpected(std::string_view expected) const {
  return Error(Current().offset,
               absl::StrCat("expected ", std::string(expected), ", got ", Describe(Current())));
}

bool Parser::SkipOperator(std::string_view op) {
  if (!Current().IsOperator(op)) return false;
  Advance();
  return true;
}

bool Parser::SkipName(std::string_view name) {
  if (!Current().IsName(name)) return false;
  Advance();
  return true;
}

absl::Status Parser::ExpectOperator(std::string_view op) {
  if (!SkipOperator(op)) return Unexpected(absl::StrCat("'", std::string(op), "'"));
  return absl::OkStatus();
}

absl::Status Parser::ExpectBlockEnd() {
  if (Current().type != TokenType::kBlockEnd) return Unexpected("end of statement block '%}'");
  Advance();
  return absl::OkStatus();
}

absl::StatusOr<std::string> Parser::ExpectName() {
  if (Current().type != TokenType::kName) return Unexpected("a name");
  std::string name = Current().text;
  Advance();
  return name;
}

absl::StatusOr<StmtList> Parser::ParseTemplate() {
  STRIDE_ASSIGN_OR_RETURN(StmtList body, ParseBody({}));
  if (Current().type != TokenType::kEndOfInput) {
    return Error(Current().offset, absl::StrCat("unexpected tag '", Current().text, "'"));
  }
  return body;
}

absl::StatusOr<StmtList> Parser::ParseBody(const std::set<std::string_view>& end_names) {
  DepthGuard guard(this);
  STRIDE_RETURN_IF_ERROR(guard.Check());
  StmtList body;
  while (true) {
    const Token& token = Current();
    switch (token.type) {
      case TokenType::kEndOfInput: {
        if (end_names.empty()) return body;
        std::string names;
        for (std::string_view n : end_names)
          absl::StrAppend(&names, names.empty() ? "" : " or ", "'", std::string(n), "'");
        return Error(token.offset, absl::StrCat("unexpected end of template, expected ", names));
      }
      case TokenType::kText: {
        auto stmt = std::make_unique<Stmt>();
        stmt->kind = StmtKind::kText;
        stmt->offset = token.offset;
        stmt->text = token.text;
        body.push_back(std::move(stmt));
        Advance();
        break;
      }
      case TokenType::kVariableBegin: {
        Advance();
        auto stmt = std::make_unique<Stmt>();
        stmt->kind = StmtKind::kOutput;
        stmt->offset = token.offset;
        STRIDE_ASSIGN_OR_RETURN(stmt->expr, ParseTuple(/*with_condition=*/true));
        if (Current().type != TokenType::kVariableEnd) {
          return Unexpected("end of print statement '}}'");
        }
        Advance();
        body.push_back(std::move(stmt));
        break;
      }
      case TokenType::kBlockBegin: {
        const Token& name = Peek();
        if (name.type == TokenType::kName && end_names.count(name.text) > 0) {
          Advance();
          return body;
        }
        Advance();
        STRIDE_ASSIGN_OR_RETURN(auto stmt, ParseStatement());
        body.push_back(std::move(stmt));
        break;
      }
      default:
        return Error(token.offset, absl::StrCat("unexpected ", Describe(token)));
    }
  }
}

absl::StatusOr<StmtList> Parser::ParseBlockBodyUntil(std::string_view end_name) {
  SkipOperator(":");
  STRIDE_RETURN_IF_ERROR(ExpectBlockEnd());
  STRIDE_ASSIGN_OR_RETURN(StmtList body, ParseBody({end_name}));
  Advance();  // the end name
  STRIDE_RETURN_IF_ERROR(ExpectBlockEnd());
  return body;
}

absl::StatusOr<std::unique_ptr<Stmt>> Parser::ParseStatement() {
  const Token& token = Current();
  if (token.type != TokenType::kName) return Unexpected("a statement name");
  const size_t offset = token.offset;
  const std::string name = token.text;
  Advance();
  if (name == "for") return ParseFor(offset);
  if (name == "if") return ParseIf(offset);
  if (name == "set") return ParseSet(offset);
  if (name == "macro") return ParseMacro(offset);
  if (name == "filter") return ParseFilterBlock(offset);
  if (name == "with") return ParseWith(offset);
  if (name == "break" || name == "continue") {
    if (loop_depth_ == 0) return Error(offset, absl::StrCat("'", name, "' outside of a for loop"));
    auto stmt = std::make_unique<Stmt>();
    stmt->kind = name == "break" ? StmtKind::kBreak : StmtKind::kContinue;
    stmt->offset = offset;
    STRIDE_RETURN_IF_ERROR(ExpectBlockEnd());
    return stmt;
  }
  if (name == "generation") {  // transformers' assistant-mask extension: renders its body
    auto stmt = std::make_unique<Stmt>();
    stmt->kind = StmtKind::kBlock;
    stmt->offset = offset;
    STRIDE_ASSIGN_OR_RETURN(stmt->body, ParseBlockBodyUntil("endgeneration"));
    return stmt;
  }
  static const std::set<std::string_view> kUnsupported = {
      "block", "extends",   "include", "import", "from",       "call", "autoescape",
      "trans", "pluralize", "do",      "print",  "macro_call", "debug"};
  if (kUnsupported.count(name) > 0) {
    return Error(offset, absl::StrCat("unsupported tag '", name, "'"));
  }
  return Error(offset, absl::StrCat("unknown tag '", name, "'"));
}

absl::StatusOr<AssignTarget> Parser::ParseAssignTarget(bool allow_tuple, bool allow_namespace,
                                                       std::string_view end_name) {
  AssignTarget target;
  STRIDE_ASSIGN_OR_RETURN(std::string first, ExpectName());
  target.names.push_back(first);
  if (allow_namespace && Current().IsOperator(".")) {
    Advance();
    STRIDE_ASSIGN_OR_RETURN(target.attribute, ExpectName());
    return target;
  }
  if (!allow_tuple) return target;
  while (SkipOperator(",")) {
    target.unpack = true;
    if (Current().type == TokenType::kBlockEnd || Current().IsOperator("=") ||
        (!end_name.empty() && Current().IsName(end_name))) {
      break;  // trailing comma
    }
    STRIDE_ASSIGN_OR_RETURN(std::string next, ExpectName());
    target.names.push_back(next);
  }
  for (const std::string& n : target.names) {
    if (n == "true" || n == "false" || n == "none" || n == "True" || n == "False" || n == "None") {
      return Error(Current().offset, absl::StrCat("cannot assign to '", n, "'"));
    }
  }
  return target;
}

absl::StatusOr<std::unique_ptr<Stmt>> Parser::ParseFor(size_t offset) {
  auto stmt = std::make_unique<Stmt>();
  stmt->kind = StmtKind::kFor;
  stmt->offset = offset;
  STRIDE_ASSIGN_OR_RETURN(stmt->target, ParseAssignTarget(true, false, "in"));
  if (!SkipName("in")) return Unexpected("'in'");
  STRIDE_ASSIGN_OR_RETURN(stmt->expr, ParseTuple(/*with_condition=*/false, "recursive"));
  if (SkipName("if")) {
    STRIDE_ASSIGN_OR_RETURN(stmt->condition, ParseExpression());
  }
  if (Current().IsName("recursive")) {
    return Error(Current().offset, "unsupported: recursive for loops");
  }
  SkipOperator(":");
  STRIDE_RETURN_IF_ERROR(ExpectBlockEnd());
  ++loop_depth_;
  auto body = ParseBody({"endfor", "else"});
  --loop_depth_;
  if (!body.ok()) return body.status();
  stmt->body = std::move(*body);
  if (Current().IsName("else")) {
    Advance();
    STRIDE_ASSIGN_OR_RETURN(stmt->else_body, ParseBlockBodyUntil("endfor"));
    return stmt;
  }
  Advance();  // endfor
  STRIDE_RETURN_IF_ERROR(ExpectBlockEnd());
  return stmt;
}

absl::StatusOr<std::unique_ptr<Stmt>> Parser::ParseIf(size_t offset) {
  auto stmt = std::make_unique<Stmt>();
  stmt->kind = StmtKind::kIf;
  stmt->offset = offset;
  while (true) {
    IfBranch branch;
    STRIDE_ASSIGN_OR_RETURN(branch.condition, ParseTuple(/*with_condition=*/false));
    SkipOperator(":");
    STRIDE_RETURN_IF_ERROR(ExpectBlockEnd());
    STRIDE_ASSIGN_OR_RETURN(branch.body, ParseBody({"elif", "else", "endif"}));
    stmt->branches.push_back(std::move(branch));
    if (SkipName("elif")) continue;
    if (SkipName("else")) {
      STRIDE_ASSIGN_OR_RETURN(stmt->else_body, ParseBlockBodyUntil("endif"));
      return stmt;
    }
    Advance();  // endif
    STRIDE_RETURN_IF_ERROR(ExpectBlockEnd());
    return stmt;
  }
}

absl::StatusOr<std::unique_ptr<Stmt>> Parser::ParseSet(size_t offset) {
  auto stmt = std::make_unique<Stmt>();
  stmt->offset = offset;
  STRIDE_ASSIGN_OR_RETURN(stmt->target, ParseAssignTarget(true, true, ""));
  if (SkipOperator("=")) {
    stmt->kind = StmtKind::kSet;
    STRIDE_ASSIGN_OR_RETURN(stmt->expr, ParseTuple(/*with_condition=*/true));
    STRIDE_RETURN_IF_ERROR(ExpectBlockEnd());
    return stmt;
  }
  stmt->kind = StmtKind::kSetBlock;
  if (stmt->target.unpack) return Error(offset, "a block set needs a single name");
  if (Current().IsOperator("|")) {
    STRIDE_ASSIGN_OR_RETURN(stmt->expr, ParseFilter(nullptr, /*start_inline=*/false));
  }
  STRIDE_ASSIGN_OR_RETURN(stmt->body, ParseBlockBodyUntil("endset"));
  return stmt;
}

absl::StatusOr<std::unique_ptr<Stmt>> Parser::ParseMacro(size_t offset) {
  auto stmt = std::make_unique<Stmt>();
  stmt->kind = StmtKind::kMacro;
  stmt->offset = offset;
  STRIDE_ASSIGN_OR_RETURN(stmt->text, ExpectName());
  STRIDE_RETURN_IF_ERROR(ExpectOperator("("));
  while (!Current().IsOperator(")")) {
    if (!stmt->params.empty()) {
      STRIDE_RETURN_IF_ERROR(ExpectOperator(","));
      if (Current().IsOperator(")")) break;
    }
    MacroParam param;
    STRIDE_ASSIGN_OR_RETURN(param.name, ExpectName());
    if (SkipOperator("=")) {
      STRIDE_ASSIGN_OR_RETURN(param.default_value, ParseExpression());
    } else if (!stmt->params.empty() && stmt->params.back().default_value != nullptr) {
      return Error(Current().offset, "non-default argument follows default argument");
    }
    stmt->params.push_back(std::move(param));
  }
  Advance();  // )
  const int saved_loop_depth = loop_depth_;
  loop_depth_ = 0;
  auto body = ParseBlockBodyUntil("endmacro");
  loop_depth_ = saved_loop_depth;
  if (!body.ok()) return body.status();
  stmt->body = std::move(*body);
  return stmt;
}

absl::StatusOr<std::unique_ptr<Stmt>> Parser::ParseFilterBlock(size_t offset) {
  auto stmt = std::make_unique<Stmt>();
  stmt->kind = StmtKind::kFilterBlock;
  stmt->offset = offset;
  STRIDE_ASSIGN_OR_RETURN(stmt->expr, ParseFilter(nullptr, /*start_inline=*/true));
  STRIDE_ASSIGN_OR_RETURN(stmt->body, ParseBlockBodyUntil("endfilter"));
  return stmt;
}

absl::StatusOr<std::unique_ptr<Stmt>> Parser::ParseWith(size_t offset) {
  auto stmt = std::make_unique<Stmt>();
  stmt->kind = StmtKind::kWith;
  stmt->offset = offset;
  while (Current().type != TokenType::kBlockEnd) {
    if (!stmt->assignments.empty()) STRIDE_RETURN_IF_ERROR(ExpectOperator(","));
    STRIDE_ASSIGN_OR_RETURN(AssignTarget target, ParseAssignTarget(false, false, ""));
    STRIDE_RETURN_IF_ERROR(ExpectOperator("="));
    STRIDE_ASSIGN_OR_RETURN(auto value, ParseExpression());
    stmt->assignments.emplace_back(std::move(target), std::move(value));
  }
  STRIDE_ASSIGN_OR_RETURN(stmt->body, ParseBlockBodyUntil("endwith"));
  return stmt;
}

}  // namespace stride::engine::text::jinja
