// Statements, scopes, macros and output of the interpreter; expressions are in
// interpreter_expressions.cc.
#include "engine/text/jinja/interpreter.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "base/status_macros.h"
#include "engine/text/jinja/operators.h"
#include "engine/text/jinja/token.h"
#include "engine/text/jinja/value_repr.h"

namespace stride::engine::text::jinja {
namespace {

// A macro value. It refers to its defining scope weakly: scopes hold macros, so a strong
// reference would be a cycle. A macro that outlives its scope resolves names in the template's.
class MacroCallable : public Callable {
 public:
  MacroCallable(const Stmt* def, std::weak_ptr<Interpreter::Frame> closure)
      : def_(def), closure_(std::move(closure)) {}
  std::string name() const override { return absl::StrCat("Macro '", def_->text, "'"); }
  absl::StatusOr<Value> Call(EvalContext& ctx, const CallArgs& args) const override {
    auto* interpreter = dynamic_cast<Interpreter*>(&ctx);
    STRIDE_CHECK(interpreter != nullptr) << "macros are called by the interpreter";
    return interpreter->CallMacro(*def_, closure_.lock(), args);
  }

 private:
  const Stmt* def_;
  std::weak_ptr<Interpreter::Frame> closure_;
};

// RAII: runs a body in a fresh child scope of `parent`.
class ScopeGuard {
 public:
  ScopeGuard(std::shared_ptr<Interpreter::Frame>* current,
             std::shared_ptr<Interpreter::Frame> parent)
      : current_(current), saved_(*current) {
    auto frame = std::make_shared<Interpreter::Frame>();
    frame->parent = std::move(parent);
    *current_ = std::move(frame);
  }
  ~ScopeGuard() { *current_ = std::move(saved_); }

 private:
  std::shared_ptr<Interpreter::Frame>* current_;
  std::shared_ptr<Interpreter::Frame> saved_;
};

}  // namespace

Interpreter::Interpreter(std::string_view source, const RenderLimits& limits,
                         const std::vector<std::pair<std::string, Value>>& globals)
    : source_(source), limits_(limits) {
  auto root = std::make_shared<Frame>();
  for (const auto& [name, value] : globals) root->vars[name] = value;
  frame_ = std::make_shared<Frame>();
  frame_->parent = std::move(root);
}

absl::StatusOr<std::string> Interpreter::Render(const StmtList& body) {
  std::string out;
  out_ = &out;
  const absl::Status status = Exec(body);
  out_ = nullptr;  // `out` does not outlive this call
  STRIDE_RETURN_IF_ERROR(status);
  return out;
}

absl::Status Interpreter::Charge(int64_t steps) {
  steps_ += steps < 0 ? 0 : steps;
  if (steps_ > limits_.max_steps) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "chat template rendering exceeded its budget of ", limits_.max_steps, " steps"));
  }
  return absl::OkStatus();
}

absl::Status Interpreter::CheckSize(size_t bytes) const {
  if (bytes > limits_.max_output_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "chat template rendering exceeded its size limit of ", limits_.max_output_bytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status Interpreter::Append(std::string_view text) {
  output_bytes_ += text.size();
  STRIDE_RETURN_IF_ERROR(CheckSize(output_bytes_));
  out_->append(text);
  return absl::OkStatus();
}

absl::Status Interpreter::Locate(absl::Status status, size_t offset) const {
  if (status.ok() || absl::StartsWith(status.message(), "line ")) return status;
  return absl::Status(status.code(),
                      absl::StrCat(DescribeLocation(source_, offset), ": ", status.message()));
}

Value Interpreter::Lookup(const std::string& name) const {
  for (const Frame* f = frame_.get(); f != nullptr; f = f->parent.get()) {
    auto it = f->vars.find(name);
    if (it != f->vars.end()) return it->second;
  }
  return Value::Undefined(absl::StrCat("'", name, "' is undefined"));
}

absl::Status Interpreter::Exec(const StmtList& body) {
  for (const auto& stmt : body) {
    STRIDE_RETURN_IF_ERROR(ExecStmt(*stmt));
    if (flow_ != Flow::kNormal) break;
  }
  return absl::OkStatus();
}

absl::Status Interpreter::ExecStmt(const Stmt& stmt) {
  STRIDE_RETURN_IF_ERROR(Charge(1));
  switch (stmt.kind) {
    case StmtKind::kText:
      return Append(stmt.text);
    case StmtKind::kOutput: {
      STRIDE_ASSIGN_OR_RETURN(Value v, Eval(*stmt.expr));
      if (v.is_string()) return Append(v.str());
      std::string text;
      if (v.depth() > 0) STRIDE_RETURN_IF_ERROR(Charge(v.depth()));
      AppendPyStr(v, &text);
      return Append(text);
    }
    case StmtKind::kIf: {
      for (const IfBranch& branch : stmt.branches) {
        STRIDE_ASSIGN_OR_RETURN(Value cond, Eval(*branch.condition));
        if (cond.Truthy()) return Exec(branch.body);
      }
      return Exec(stmt.else_body);
    }
    case StmtKind::kFor:
      return Locate(ExecFor(stmt), stmt.offset);
    case StmtKind::kSet:
      return Locate(ExecSet(stmt), stmt.offset);
    case StmtKind::kSetBlock:
      return Locate(ExecSetBlock(stmt), stmt.offset);
    case StmtKind::kMacro:
      return ExecMacro(stmt);
    case StmtKind::kBreak:
      flow_ = Flow::kBreak;
      return absl::OkStatus();
    case StmtKind::kContinue:
      flow_ = Flow::kContinue;
      return absl::OkStatus();
    case StmtKind::kFilterBlock:
      return Locate(ExecFilterBlock(stmt), stmt.offset);
    case StmtKind::kWith:
      return Locate(ExecWith(stmt), stmt.offset);
    case StmtKind::kBlock:
      return Exec(stmt.body);
  }
  return absl::OkStatus();
}

absl::Status Interpreter::Assign(const AssignTarget& target, const Value& value, size_t offset) {
  if (!target.attribute.empty()) {
    Value ns = Lookup(target.names[0]);
    if (!ns.is_namespace()) {
      return absl::InvalidArgumentError(
          "TemplateRuntimeError: cannot assign attribute on non-namespace object");
    }
    if (value.reaches_namespace()) {
      return absl::InvalidArgumentError("a namespace attribute cannot hold a namespace");
    }
    ns.ns().attributes.Set(Value::String(target.attribute), value);
    return absl::OkStatus();
  }
  if (!target.unpack) {
    frame_->vars[target.names[0]] = value;
    return absl::OkStatus();
  }
  if (value.is_undefined()) return UndefinedError(value);
  STRIDE_ASSIGN_OR_RETURN(Value items, ToList(value));
  const size_t want = target.names.size();
  const size_t got = items.items().size();
  if (got < want) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ValueError: not enough values to unpack (expected ", want, ", got ", got, ")"));
  }
  if (got > want) {
    return absl::InvalidArgumentError(
        absl::StrCat("ValueError: too many values to unpack (expected ", want, ")"));
  }
  for (size_t i = 0; i < want; ++i) frame_->vars[target.names[i]] = items.items()[i];
  return absl::OkStatus();
}

absl::Status Interpreter::ExecFor(const Stmt& stmt) {
  STRIDE_ASSIGN_OR_RETURN(Value iterable, Eval(*stmt.expr));
  if (iterable.is_none() || iterable.is_number() || iterable.is_callable() ||
      iterable.is_namespace() || iterable.is_loop()) {
    return TypeError(absl::StrCat("'", TypeName(iterable), "' object is not iterable"));
  }
  STRIDE_ASSIGN_OR_RETURN(Value sequence, ToList(iterable));
  if (stmt.condition != nullptr) {  // `for x in xs if cond`: filter first, loop.* counts kept items
    std::vector<Value> kept;
    for (const Value& item : sequence.items()) {
      STRIDE_RETURN_IF_ERROR(Charge(1));
      ScopeGuard scope(&frame_, frame_);
      STRIDE_RETURN_IF_ERROR(Assign(stmt.target, item, stmt.offset));
      STRIDE_ASSIGN_OR_RETURN(Value keep, Eval(*stmt.condition));
      if (keep.Truthy()) kept.push_back(item);
    }
    sequence = Value::List(std::move(kept));
  }
  if (sequence.items().empty()) {
    ScopeGuard scope(&frame_, frame_);
    return Exec(stmt.else_body);
  }
  auto loop = std::make_shared<LoopInfo>();
  loop->sequence = sequence;
  const size_t n = sequence.items().size();
  for (size_t i = 0; i < n; ++i) {
    STRIDE_RETURN_IF_ERROR(Charge(1));
    ScopeGuard scope(&frame_, frame_);
    STRIDE_RETURN_IF_ERROR(Assign(stmt.target, sequence.items()[i], stmt.offset));
    // Each iteration gets its own loop object: a previous one may have been stored somewhere.
    auto info = std::make_shared<LoopInfo>(*loop);
    info->index0 = static_cast<int64_t>(i);
    frame_->vars["loop"] = Value::Loop(std::move(info));
    STRIDE_RETURN_IF_ERROR(Exec(stmt.body));
    if (flow_ == Flow::kBreak) {
      flow_ = Flow::kNormal;
      break;
    }
    flow_ = Flow::kNormal;
  }
  return absl::OkStatus();
}

absl::Status Interpreter::ExecSet(const Stmt& stmt) {
  STRIDE_ASSIGN_OR_RETURN(Value value, Eval(*stmt.expr));
  return Assign(stmt.target, value, stmt.offset);
}

absl::StatusOr<std::string> Interpreter::Capture(const StmtList& body) {
  std::string captured;
  std::string* saved = out_;
  out_ = &captured;
  absl::Status status = Exec(body);
  out_ = saved;
  STRIDE_RETURN_IF_ERROR(status);
  return captured;
}

absl::StatusOr<Value> Interpreter::ApplyBlockFilters(const Expr& chain, std::string text) {
  const std::string* saved = block_text_;
  block_text_ = &text;
  auto result = Eval(chain);
  block_text_ = saved;
  return result;
}

absl::Status Interpreter::ExecSetBlock(const Stmt& stmt) {
  STRIDE_ASSIGN_OR_RETURN(std::string text, Capture(stmt.body));
  Value value = Value::String(text);
  if (stmt.expr != nullptr) {
    STRIDE_ASSIGN_OR_RETURN(value, ApplyBlockFilters(*stmt.expr, std::move(text)));
  }
  return Assign(stmt.target, value, stmt.offset);
}

absl::Status Interpreter::ExecFilterBlock(const Stmt& stmt) {
  STRIDE_ASSIGN_OR_RETURN(std::string text, Capture(stmt.body));
  STRIDE_ASSIGN_OR_RETURN(Value value, ApplyBlockFilters(*stmt.expr, std::move(text)));
  std::string out;
  AppendPyStr(value, &out);
  return Append(out);
}

absl::Status Interpreter::ExecWith(const Stmt& stmt) {
  std::vector<Value> values;
  for (const auto& [target, expr] : stmt.assignments) {
    STRIDE_ASSIGN_OR_RETURN(Value v, Eval(*expr));
    values.push_back(std::move(v));
  }
  ScopeGuard scope(&frame_, frame_);
  for (size_t i = 0; i < values.size(); ++i) {
    STRIDE_RETURN_IF_ERROR(Assign(stmt.assignments[i].first, values[i], stmt.offset));
  }
  return Exec(stmt.body);
}

absl::Status Interpreter::ExecMacro(const Stmt& stmt) {
  frame_->vars[stmt.text] =
      Value::Function(std::make_shared<MacroCallable>(&stmt, std::weak_ptr<Frame>(frame_)));
  return absl::OkStatus();
}

absl::StatusOr<Value> Interpreter::CallMacro(const Stmt& macro,
                                             const std::shared_ptr<Frame>& closure,
                                             const CallArgs& args) {
  if (call_depth_ >= limits_.max_call_depth) {
    return absl::ResourceExhaustedError(
        absl::StrCat("macro calls nested deeper than ", limits_.max_call_depth));
  }
  const auto& params = macro.params;
  if (args.positional.size() > params.size()) {
    return TypeError(absl::StrCat("macro '", macro.text, "' takes not more than ", params.size(),
                                  " argument(s)"));
  }
  std::vector<std::optional<Value>> bound(params.size());
  for (size_t i = 0; i < args.positional.size(); ++i) bound[i] = args.positional[i];
  for (const auto& [key, value] : args.keyword) {
    size_t i = 0;
    while (i < params.size() && params[i].name != key) ++i;
    if (i == params.size()) {
      return TypeError(
          absl::StrCat("macro '", macro.text, "' takes no keyword argument '", key, "'"));
    }
    if (bound[i].has_value()) {
      return TypeError(
          absl::StrCat("macro '", macro.text, "' got multiple values for argument '", key, "'"));
    }
    bound[i] = value;
  }
  // The body runs in a fresh scope whose parent is the defining scope (or the template's).
  std::shared_ptr<Frame> parent = closure;
  if (parent == nullptr) {
    parent = frame_;
    while (parent->parent != nullptr && parent->parent->parent != nullptr) parent = parent->parent;
  }
  ++call_depth_;
  ScopeGuard scope(&frame_, parent);
  const Flow saved_flow = flow_;
  flow_ = Flow::kNormal;
  absl::StatusOr<std::string> text = [&]() -> absl::StatusOr<std::string> {
    for (size_t i = 0; i < params.size(); ++i) {
      if (bound[i].has_value()) {
        frame_->vars[params[i].name] = *bound[i];
      } else if (params[i].default_value != nullptr) {
        STRIDE_ASSIGN_OR_RETURN(Value v, Eval(*params[i].default_value));
        frame_->vars[params[i].name] = std::move(v);
      } else {
        frame_->vars[params[i].name] =
            Value::Undefined(absl::StrCat("parameter '", params[i].name, "' was not provided"));
      }
    }
    return Capture(macro.body);
  }();
  flow_ = saved_flow;
  --call_depth_;
  STRIDE_RETURN_IF_ERROR(text.status());
  return Value::String(std::move(*text));
}

}  // namespace stride::engine::text::jinja
