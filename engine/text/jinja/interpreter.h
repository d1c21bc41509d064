// Renders a parsed template: walks the statements with jinja2's scoping (a for-loop iteration, a
// macro call and a with block each get their own scope; if does not), evaluates expressions,
// and enforces the render limits. One Interpreter renders once; Template::Render makes one per
// call, so a parsed template can be rendered from many threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/text/jinja/ast.h"
#include "engine/text/jinja/eval_context.h"
#include "engine/text/jinja/value.h"

namespace stride::engine::text::jinja {

class Interpreter : public EvalContext {
 public:
  // `source` is the lexed source (for error locations); `globals` are the render's variables.
  Interpreter(std::string_view source, const RenderLimits& limits,
              const std::vector<std::pair<std::string, Value>>& globals);

  absl::StatusOr<std::string> Render(const StmtList& body);

  absl::Status Charge(int64_t steps) override;
  absl::Status CheckSize(size_t bytes) const override;
  absl::StatusOr<Value> CallValue(const Value& callee, const CallArgs& args) override;

  struct Frame {
    absl::flat_hash_map<std::string, Value> vars;
    std::shared_ptr<Frame> parent;
  };
  // Renders a macro body (see MacroCallable in interpreter.cc).
  absl::StatusOr<Value> CallMacro(const Stmt& macro, const std::shared_ptr<Frame>& closure,
                                  const CallArgs& args);

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  absl::Status Exec(const StmtList& body);
  absl::Status ExecStmt(const Stmt& stmt);
  absl::Status ExecFor(const Stmt& stmt);
  absl::Status ExecSet(const Stmt& stmt);
  absl::Status ExecSetBlock(const Stmt& stmt);
  absl::Status ExecFilterBlock(const Stmt& stmt);
  absl::Status ExecWith(const Stmt& stmt);
  absl::Status ExecMacro(const Stmt& stmt);
  // Renders `body` into a string instead of the output.
  absl::StatusOr<std::string> Capture(const StmtList& body);
  // Applies a filter chain whose innermost operand is the block text.
  absl::StatusOr<Value> ApplyBlockFilters(const Expr& chain, std::string text);
  absl::Status Assign(const AssignTarget& target, const Value& value, size_t offset);
  absl::Status Append(std::string_view text);

  absl::StatusOr<Value> Eval(const Expr& expr);
  absl::StatusOr<Value> EvalUnlocated(const Expr& expr);
  absl::StatusOr<CallArgs> EvalArgs(const Expr& expr, size_t first_arg);
  absl::StatusOr<Value> EvalCompare(const Expr& expr);
  Value Lookup(const std::string& name) const;
  // Refuses values nested too deeply or too large to print within the limits.
  absl::Status CheckValue(const Value& v) const;

  // Prefixes an error with the line and column of `offset` (once: the innermost wins).
  absl::Status Locate(absl::Status status, size_t offset) const;

  std::string_view source_;
  RenderLimits limits_;
  std::shared_ptr<Frame> frame_;
  std::string* out_ = nullptr;
  size_t output_bytes_ = 0;  // everything appended, captures included
  int64_t steps_ = 0;
  int call_depth_ = 0;
  Flow flow_ = Flow::kNormal;
  const std::string* block_text_ = nullptr;  // operand of a filter block's chain
};

}  // namespace stride::engine::text::jinja
