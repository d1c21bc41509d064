// Programmatic dependent launch (sm_90): a kernel launched with LaunchPdl may start while the
// kernel before it on the stream is still finishing, so its prologue (weight loads, index
// arithmetic) overlaps the previous kernel's tail and the launch gap. Rules for a PDL kernel:
//  * call WaitForPrecedingGrid() in every CTA, on every path, before touching any activation or
//    metadata (anything an earlier kernel may write); only data constant for the step (weights)
//    may be read before it. The wait returns once the previous grid has completed and its writes
//    are visible, and because every PDL kernel waits, completion is transitive down the stream.
//  * call AllowDependentLaunch() once the CTA no longer needs the SM to itself (at the start is
//    fine: the next grid is launched only when every CTA of this one has called it or exited).
// On devices below sm_90 both are no-ops and LaunchPdl launches normally.
#pragma once

#include <cuda_runtime.h>

#include <utility>

#include "kernels/common/pdl.h"

namespace stride::kernels {

__device__ __forceinline__ void WaitForPrecedingGrid() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

__device__ __forceinline__ void AllowDependentLaunch() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// kernel<<<grid, block, smem, stream>>>(args...) with the programmatic stream serialization
// attribute, so the kernel may begin before its predecessor ends (see above).
template <typename... Params, typename... Args>
cudaError_t LaunchPdl(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes,
                      cudaStream_t stream, Args&&... args) {
  cudaLaunchAttribute attribute[1];
  attribute[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute[0].val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config = {};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = shared_bytes;
  config.stream = stream;
  config.attrs = attribute;
  config.numAttrs = PdlEnabled() ? 1 : 0;
  return cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
}

}  // namespace stride::kernels
