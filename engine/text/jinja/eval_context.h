// What filters, tests, methods and global functions may ask of the running render: charge work
// against its budget, check the size of a value they are about to build, and call a callable
// (macros included). Implemented by the Interpreter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/text/jinja/value.h"

namespace stride::engine::text::jinja {

// Bounds on one render, so that no template or input can run away with time or memory.
struct RenderLimits {
  size_t max_output_bytes = size_t{64} << 20;  // the output, and any one string or list built
  int64_t max_steps = 50'000'000;              // expression nodes, statements, loop iterations
  int max_call_depth = 64;                     // nested macro calls
};

class EvalContext {
 public:
  virtual ~EvalContext() = default;
  // Counts `steps` units of work; fails once the render's budget is spent.
  virtual absl::Status Charge(int64_t steps) = 0;
  // Fails when a string of `bytes` bytes (or a list of that many items) exceeds the limits.
  virtual absl::Status CheckSize(size_t bytes) const = 0;
  virtual absl::StatusOr<Value> CallValue(const Value& callee, const CallArgs& args) = 0;
};

// The error for using an Undefined value where jinja2 raises UndefinedError.
absl::Status UndefinedError(const Value& undefined);
// A runtime type error (Python's TypeError and friends).
absl::Status TypeError(std::string_view message);

}  // namespace stride::engine::text::jinja
