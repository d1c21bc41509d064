// Host-side helper for launchers: the error of the launch just made (configuration or an
// earlier asynchronous fault), so every Launch… function can return it.
#pragma once

#include <cuda_runtime.h>

namespace stride::kernels {

inline cudaError_t LastLaunchError() { return cudaGetLastError(); }

}  // namespace stride::kernels
