// CUDA error checks for the CUDA runner: every runtime call and kernel launch goes through
// STRIDE_CUDA_CHECK, which aborts with the call, file, line and CUDA's message. A failed CUDA
// call inside a step is a broken invariant (bad shapes were rejected at construction).
#pragma once

#include <cuda_runtime.h>

#include "base/check.h"

#define STRIDE_CUDA_CHECK(expr)                                                  \
  do {                                                                           \
    const cudaError_t stride_cuda_error_ = (expr);                               \
    STRIDE_CHECK(stride_cuda_error_ == cudaSuccess)                              \
        << #expr << ": " << cudaGetErrorString(stride_cuda_error_);              \
  } while (0)
