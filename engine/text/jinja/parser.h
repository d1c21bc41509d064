// Recursive-descent parser from tokens to the syntax tree, following jinja2's grammar and operator
// precedence. Everything a chat template may use parses; anything else (include, extends, call
// blocks, recursive loops, unknown filters/tests, ...) is an error naming the construct and its
// line and column, so a bad template is refused when the server loads it.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/text/jinja/ast.h"
#include "engine/text/jinja/lexer.h"

namespace stride::engine::text::jinja {

class Parser {
 public:
  explicit Parser(const LexedTemplate& lexed) : source_(lexed.source), tokens_(lexed.tokens) {}

  absl::StatusOr<StmtList> ParseTemplate();

 private:
  // Nesting deeper than this (brackets, blocks, and each link of an operator, filter or
  // attribute chain, which nests the tree as deeply) is refused: it bounds the recursion of the
  // parser, the interpreter and the tree's destructor.
  static constexpr int kMaxNesting = 200;

  // --- statements (parser.cc) ---
  // Parses statements until a `{% name %}` tag with a name in `end_names`; leaves the position on
  // that name. With no end names, parses to the end of input.
  absl::StatusOr<StmtList> ParseBody(const std::set<std::string_view>& end_names);
  absl::StatusOr<std::unique_ptr<Stmt>> ParseStatement();
  absl::StatusOr<std::unique_ptr<Stmt>> ParseFor(size_t offset);
  absl::StatusOr<std::unique_ptr<Stmt>> ParseIf(size_t offset);
  absl::StatusOr<std::unique_ptr<Stmt>> ParseSet(size_t offset);
  absl::StatusOr<std::unique_ptr<Stmt>> ParseMacro(size_t offset);
  absl::StatusOr<std::unique_ptr<Stmt>> ParseFilterBlock(size_t offset);
  absl::StatusOr<std::unique_ptr<Stmt>> ParseWith(size_t offset);
  // Parses "%} body {% end_name %}" (the closing tag included).
  absl::StatusOr<StmtList> ParseBlockBodyUntil(std::string_view end_name);
  absl::StatusOr<AssignTarget> ParseAssignTarget(bool allow_tuple, bool allow_namespace,
                                                 std::string_view end_name);

  // --- expressions (parser_expressions.cc) ---
  absl::StatusOr<std::unique_ptr<Expr>> ParseExpression(bool with_condition = true);
  // A comma-separated list becomes a tuple; `end_name` also ends it (e.g. "recursive").
  absl::StatusOr<std::unique_ptr<Expr>> ParseTuple(bool with_condition,
                                                   std::string_view end_name = "",
                                                   bool explicit_parentheses = false);
  absl::StatusOr<std::unique_ptr<Expr>> ParseCondition();
  absl::StatusOr<std::unique_ptr<Expr>> ParseOr();
  absl::StatusOr<std::unique_ptr<Expr>> ParseAnd();
  absl::StatusOr<std::unique_ptr<Expr>> ParseNot();
  absl::StatusOr<std::unique_ptr<Expr>> ParseCompare();
  absl::StatusOr<std::unique_ptr<Expr>> ParseAdditive();
  absl::StatusOr<std::unique_ptr<Expr>> ParseConcat();
  absl::StatusOr<std::unique_ptr<Expr>> ParseMultiplicative();
  absl::StatusOr<std::unique_ptr<Expr>> ParsePower();
  absl::StatusOr<std::unique_ptr<Expr>> ParseUnary(bool with_filter);
  absl::StatusOr<std::unique_ptr<Expr>> ParsePrimary();
  absl::StatusOr<std::unique_ptr<Expr>> ParsePostfix(std::unique_ptr<Expr> node);
  absl::StatusOr<std::unique_ptr<Expr>> ParseFilterExpr(std::unique_ptr<Expr> node);
  absl::StatusOr<std::unique_ptr<Expr>> ParseSubscript(std::unique_ptr<Expr> node);
  absl::StatusOr<std::unique_ptr<Expr>> ParseFilter(std::unique_ptr<Expr> node, bool start_inline);
  absl::StatusOr<std::unique_ptr<Expr>> ParseTest(std::unique_ptr<Expr> node);
  // Parses "(args)" into node->children (after those already there) and node->keyword_args.
  absl::Status ParseCallArgs(Expr* node);
  absl::StatusOr<std::string> ParseDottedName();

  // --- token helpers (parser.cc) ---
  const Token& Current() const { return tokens_[pos_]; }
  const Token& Peek() const { return tokens_[pos_ + 1 < tokens_.size() ? pos_ + 1 : pos_]; }
  void Advance() {
    if (pos_ + 1 < tokens_.size()) ++pos_;
  }
  bool SkipOperator(std::string_view op);
  bool SkipName(std::string_view name);
  absl::Status ExpectOperator(std::string_view op);
  absl::Status ExpectBlockEnd();
  absl::StatusOr<std::string> ExpectName();
  absl::Status Error(size_t offset, std::string_view message) const;
  absl::Status Unexpected(std::string_view expected) const;
  static std::string Describe(const Token& token);

  // Counts nesting; refuses past kMaxNesting.
  class DepthGuard {
   public:
    explicit DepthGuard(Parser* parser) : parser_(parser) { ++parser_->depth_; }
    ~DepthGuard() { --parser_->depth_; }
    absl::Status Check() const { return CheckDepth(parser_); }
    static absl::Status CheckDepth(const Parser* parser);

   private:
    Parser* parser_;
  };

  // Counts the links of a left-nested chain (a + b + c, x|f|g, a.b.c) as nesting levels for as
  // long as the chain's parse function runs.
  class ChainGuard {
   public:
    explicit ChainGuard(Parser* parser) : parser_(parser) {}
    ~ChainGuard() { parser_->depth_ -= added_; }
    absl::Status Add() {
      ++added_;
      ++parser_->depth_;
      return DepthGuard::CheckDepth(parser_);
    }

   private:
    Parser* parser_;
    int added_ = 0;
  };

  std::string_view source_;
  const std::vector<Token>& tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;  // for break/continue
};

}  // namespace stride::engine::text::jinja
