// Early-return helpers for absl::Status / absl::StatusOr, used by every folder.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define STRIDE_CONCAT_INNER(a, b) a##b
#define STRIDE_CONCAT(a, b) STRIDE_CONCAT_INNER(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define STRIDE_RETURN_IF_ERROR(expr)                \
  do {                                              \
    ::absl::Status stride_status_ = (expr);         \
    if (!stride_status_.ok()) return stride_status_; \
  } while (0)

// `STRIDE_ASSIGN_OR_RETURN(auto x, F());` declares x from a StatusOr or returns its error.
#define STRIDE_ASSIGN_OR_RETURN(lhs, expr) \
  STRIDE_ASSIGN_OR_RETURN_IMPL(STRIDE_CONCAT(stride_statusor_, __LINE__), lhs, expr)
#define STRIDE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
